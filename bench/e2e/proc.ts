/** CPU time and memory of a process, from Linux /proc (the benchmark's processes are its children). */
import { readFileSync } from 'node:fs'

/** Resident set size, bytes. */
export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  return kb === undefined ? Number.NaN : Number(kb) * 1024
}

/** utime + stime, ms (from clock ticks of 10 ms). */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may contain spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}
