import { afterEach, beforeEach, expect } from "@jest/globals";
import nock from "nock";
import { resetLiveGrantCaches } from "../../src/github/live-grants.js";
import { resetProvenanceCache } from "../../src/github/provenance.js";

/**
 * No test reaches the network, except the real servers tests start on loopback (a webhook
 * receiver, PostgreSQL); every mock defined must be used; nothing leaks between tests.
 */
export function guardNetwork(): void {
  beforeEach(() => {
    resetLiveGrantCaches();
    resetProvenanceCache();
    nock.disableNetConnect();
    nock.enableNetConnect(/^127\.0\.0\.1:\d+$/);
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
}
