import { startWsServer } from '../runtimes/node-ws.js'
import { defineConformanceSuite } from './suite.js'

defineConformanceSuite('Node + ws (attachWebSocketServer)', startWsServer)
