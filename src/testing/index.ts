// Shared acceptance suites for adapters: run them with your test framework's describe/it/expect.
export * from './broker-conformance.js'
export {
  type ConformanceTestApi as StoreConformanceTestApi,
  defineDocumentStoreConformance,
  type StoreFixture,
} from './store-conformance.js'
