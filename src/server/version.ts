/** Reported by `GET /` and `GET /health`; kept in step with package.json at release time. */
export const SERVER_NAME = 'synckit-engine'
/** This package's version. */
export const VERSION = '0.1.0'
