import { fileDiagnostic, type Diagnostic } from "../diagnostics.js";
import { completeRecord } from "./complete.js";
import type { Decision } from "./decision.js";
import type { RequestSnapshot } from "./snapshot.js";

/**
 * An open request on a repository whose policy or CODEOWNERS did not come through a pull request
 * this app approved (github/provenance.ts): it fails closed, whatever its own merits, and security
 * hears of it — someone changed who may approve what outside the process. Undefined when the files
 * are trusted or were not checked. Pure: decideOpenRequest asks this before its verdicts.
 */
export function refuseUntrustedPolicy(s: RequestSnapshot): Decision | undefined {
  const refusal = untrustedPolicy(s);
  if (!refusal) return undefined;
  return { ...refusal, label: null, record: completeRecord(s, { status: null }), view: { kind: "untrusted-policy", errors: refusal.check.errors } };
}

/**
 * The same refusal for a policy change (decidePolicyChange): judged by an untrusted CODEOWNERS, its
 * approvals would make a pushed CODEOWNERS look approved. Only the check speaks, as for any policy change.
 */
export function untrustedPolicy(s: RequestSnapshot): (Decision & { check: { kind: "untrusted-policy"; errors: Diagnostic[] } }) | undefined {
  const p = s.policyProvenance;
  if (!p || p.trusted) return undefined;
  const commit = p.commit ? `commit ${p.commit.slice(0, 7)}, ` : "";
  const message =
    `${p.path} on ${s.defaultBranch} was not changed through a pull request that jit-access approved (${commit}${p.why}); requests fail closed until it is. ` +
    `Change it through a pull request that gets jit-access's successful check, or, if an operator vouches for this change, add ${p.commit ? `its commit SHA ${p.commit}` : `its blob SHA ${p.blobSha}`} to JIT_TRUSTED_POLICY_SHAS.`;
  return {
    status: null,
    check: { kind: "untrusted-policy", errors: [fileDiagnostic(p.path, message)] },
    effects: [],
    alert: `policy provenance: ${s.owner}/${s.repo}#${s.pr.number} refused: ${message}`,
    alertKind: "tamper",
  };
}
