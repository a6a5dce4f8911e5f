/** Reported by `GET /` and `GET /health`; kept in step with package.json at release time. */
export const SERVER_NAME = 'synckit-engine'
export const VERSION = '0.1.0'
