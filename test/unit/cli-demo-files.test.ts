import { describe, expect, it } from 'vitest'
import { demoFilesFor } from '../../src/cli/start.js'
import type { Logger } from '../../src/server/logger.js'

/** A logger that keeps its warnings. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = []
  const logger = {
    warnings,
    debug() {},
    info() {},
    warn(_fields: object, message?: string) {
      warnings.push(message ?? '')
    },
    error() {},
    child: () => logger,
  }
  return logger
}

const missing = async () => {
  throw new Error('The demo files are missing from dist/web: run `npm run build`')
}

describe('the CLI demo page', () => {
  it('in development mode, a build without the demo files serves the API alone and says why', async () => {
    const logger = recordingLogger()
    await expect(demoFilesFor({ demo: true, mode: 'development' }, logger, missing)).resolves.toBeUndefined()
    expect(logger.warnings).toEqual(['demo page not served: its files are missing'])
  })

  it('asked for outside development mode (--demo), missing files stop the start', async () => {
    const logger = recordingLogger()
    await expect(demoFilesFor({ demo: true, mode: 'production' }, logger, missing)).rejects.toThrow(
      /demo files are missing/,
    )
  })

  it('is not loaded when the demo is off', async () => {
    let loaded = false
    const load = async () => {
      loaded = true
      return () => undefined
    }
    await expect(
      demoFilesFor({ demo: false, mode: 'development' }, recordingLogger(), load),
    ).resolves.toBeUndefined()
    expect(loaded).toBe(false)
  })
})
