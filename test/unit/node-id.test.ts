import { describe, expect, it } from 'vitest'
import { configFromEnv } from '../../src/cli/config.js'
import { resolveServerOptions } from '../../src/server/resolve-options.js'
import { isValidNodeId } from '../../src/storage/codec.js'

/** The node id is checked in three places (the stores, the option, the setting): one rule for all. */
describe('node ids', () => {
  const accepted = ['n', 'node-1', 'a.b_c:d-e', 'x'.repeat(65), 'x'.repeat(128)]
  const refused = ['', 'node one', 'nœud', 'a/b', 'x'.repeat(129)]

  it('follow the same rule as an option, as a setting and in the stores', () => {
    for (const nodeId of accepted) {
      expect(isValidNodeId(nodeId), nodeId).toBe(true)
      expect(resolveServerOptions({ nodeId }).nodeId).toBe(nodeId)
      expect(configFromEnv({ SYNCKIT_NODE_ID: nodeId }, []).server.nodeId).toBe(nodeId)
    }
    for (const nodeId of refused) {
      expect(isValidNodeId(nodeId), nodeId).toBe(false)
      expect(() => resolveServerOptions({ nodeId }), nodeId).toThrow(/Invalid option nodeId/)
      if (nodeId !== '')
        expect(() => configFromEnv({ SYNCKIT_NODE_ID: nodeId }, []), nodeId).toThrow(/SYNCKIT_NODE_ID/)
    }
  })
})
