import { describe, expect, it } from 'vitest'
import { webFilesFor } from '../../src/cli/start.js'
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
    await expect(
      webFilesFor({ demo: true, inspector: true, mode: 'development' }, logger, missing),
    ).resolves.toBeUndefined()
    expect(logger.warnings).toEqual(['demo page not served: its files are missing'])
  })

  it('asked for outside development mode (--demo), missing files stop the start', async () => {
    const logger = recordingLogger()
    await expect(
      webFilesFor({ demo: true, inspector: true, mode: 'production' }, logger, missing),
    ).rejects.toThrow(/demo files are missing/)
  })

  it('is not loaded when the demo and the inspector are off', async () => {
    let loaded = false
    const load = async () => {
      loaded = true
      return () => undefined
    }
    await expect(
      webFilesFor({ demo: false, inspector: false, mode: 'development' }, recordingLogger(), load),
    ).resolves.toBeUndefined()
    expect(loaded).toBe(false)
  })

  it('with --inspector alone, serves the inspector page and not the demo at /', async () => {
    const files = await webFilesFor({ demo: false, inspector: true, mode: 'production' }, recordingLogger())
    expect((await files?.('/inspector'))?.contentType).toBe('text/html; charset=utf-8')
    expect((await files?.('/inspector/app.js'))?.contentType).toBe('text/javascript; charset=utf-8')
    expect(await files?.('/')).toBeUndefined()
    expect(await files?.('/demo/app.js')).toBeUndefined()
  })
})
