import { startCrosswsServer } from '../runtimes/crossws-node.js'
import { defineConformanceSuite } from './suite.js'

defineConformanceSuite('Node + crossws (createCrosswsHooks on crossws/adapters/node)', startCrosswsServer)
