import { afterEach, beforeEach, expect } from "@jest/globals";
import nock from "nock";

/** No test reaches the network; every mock defined must be used; nothing leaks between tests. */
export function guardNetwork(): void {
  beforeEach(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
}
