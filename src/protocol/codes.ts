import { type CodedMessageType, MESSAGE_TYPE_CODES } from './types.js'

// Lookup tables instead of `MESSAGE_TYPE_CODES[type]`, which would also answer for `toString`.
const typeByCode: (CodedMessageType | undefined)[] = new Array(256).fill(undefined)
const codeByType = new Map<string, number>()
for (const [type, code] of Object.entries(MESSAGE_TYPE_CODES) as [CodedMessageType, number][]) {
  typeByCode[code] = type
  codeByType.set(type, code)
}

/** The message type of a binary type code, if it has one. */
export function typeFromCode(code: number): CodedMessageType | undefined {
  return Number.isInteger(code) && code >= 0 && code < 256 ? typeByCode[code] : undefined
}

/** The binary type code of a message type, if it has one. */
export function codeOfType(type: string): number | undefined {
  return codeByType.get(type)
}
