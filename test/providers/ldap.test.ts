import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Attribute, Change, Client } from "ldapts";
import { escapeDnValue, ldapProvider } from "../../src/providers/ldap.js";
import { ProviderError, standingOf, unitsToRevoke, type GrantTarget } from "../../src/providers/types.js";
import { freePort } from "../../testkit/redis-server.js";
import { ROOT_DN, slapdAvailability, startSlapd, SUFFIX, type TestSlapd } from "../../testkit/slapd-server.js";

const availability = slapdAvailability();
if ("missing" in availability) {
  console.warn(`\n${"!".repeat(80)}\n!! ldap provider tests NOT RUN: ${availability.missing}\n${"!".repeat(80)}\n`);
}
const describeSlapd = "ok" in availability ? describe : describe.skip;

const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const JIT_DN = `cn=jit,${SUFFIX}`;
const JIT_PASSWORD = "jit-bind-s3cret";
const PLACEHOLDER = `cn=nobody,${SUFFIX}`;
const dn = (uid: string) => `uid=${uid},${PEOPLE}`;
const group = (cn: string) => `cn=${cn},${GROUPS}`;

// The app binds as its own DN, which may write `member` of the groups under ou=groups and nothing else.
const ACCESS = [
  "access to attrs=userPassword by anonymous auth by * none",
  `access to dn.subtree="${GROUPS}" attrs=member by dn.exact="${JIT_DN}" write by * read`,
  "access to * by * read",
];

let server: TestSlapd;
let admin: Client;
let env: Record<string, string>;

const config = { url_env: "JIT_LDAP_URL", bind_dn: JIT_DN, bind_password_env: "JIT_LDAP_PASSWORD", user_dn: `uid={login},${PEOPLE}` };
const target = (id: string, requester: string, groups: string[], extra: Partial<GrantTarget> = {}): GrantTarget => ({
  id,
  requester,
  resource: "directory",
  role: "ops",
  provider: "ldap",
  config,
  grant: { groups },
  startsAt: "2026-11-29T13:00:00Z",
  expiresAt: "2026-11-29T15:00:00Z",
  pullRequest: "https://github.com/acme/access/pull/7",
  ...extra,
});

/** The group's members as the directory has them, lower-cased and sorted. */
async function members(cn: string): Promise<string[]> {
  const { searchEntries } = await admin.search(group(cn), { scope: "base", attributes: ["member"] });
  const value = searchEntries[0]?.member ?? [];
  return (Array.isArray(value) ? value : [value]).map((m) => String(m).toLowerCase()).sort();
}

describeSlapd("the ldap provider, against a real slapd", () => {
  beforeAll(async () => {
    server = await startSlapd("root-s3cret", ACCESS);
    admin = new Client({ url: server.url });
    await admin.bind(ROOT_DN, server.rootPassword);
    await admin.add(SUFFIX, { objectClass: ["dcObject", "organization"], dc: "example", o: "Example" });
    await admin.add(JIT_DN, { objectClass: ["organizationalRole", "simpleSecurityObject"], cn: "jit", userPassword: JIT_PASSWORD });
    await admin.add(PLACEHOLDER, { objectClass: ["organizationalRole"], cn: "nobody" });
    await admin.add(PEOPLE, { objectClass: ["organizationalUnit"], ou: "people" });
    for (const uid of ["alice", "bob", "carol"]) await admin.add(dn(uid), { objectClass: ["inetOrgPerson"], uid, cn: uid, sn: uid });
    await admin.add(`cn=Smith\\, Dana,${PEOPLE}`, { objectClass: ["inetOrgPerson"], cn: "Smith, Dana", sn: "Smith" });
    await admin.add(GROUPS, { objectClass: ["organizationalUnit"], ou: "groups" });
    // groupOfNames must have a member: each group keeps a placeholder, except `solo`.
    await admin.add(group("ops"), { objectClass: ["groupOfNames"], cn: "ops", member: [PLACEHOLDER] });
    await admin.add(group("dba"), { objectClass: ["groupOfNames"], cn: "dba", member: [PLACEHOLDER, dn("bob")] });
    await admin.add(group("solo"), { objectClass: ["groupOfNames"], cn: "solo", member: [dn("carol")] });
    await admin.add(`cn=admins,${SUFFIX}`, { objectClass: ["groupOfNames"], cn: "admins", member: [PLACEHOLDER] });
    env = { JIT_LDAP_URL: server.url, JIT_LDAP_PASSWORD: JIT_PASSWORD };
  }, 30_000);
  afterAll(async () => {
    await admin?.unbind().catch(() => {});
    server?.stop();
  });

  it("adds the requester's DN to the role's groups, says it is held, and removes it on revoke", async () => {
    const provider = ldapProvider(env);
    const t = target("acme/access#1", "alice", [group("ops"), group("dba")]);
    expect(await provider.held(t)).toEqual([]);
    await provider.apply(t);
    expect(await members("ops")).toEqual([dn("alice"), PLACEHOLDER].sort());
    expect(await members("dba")).toEqual([dn("alice"), dn("bob"), PLACEHOLDER].sort());
    expect(await provider.held(t)).toEqual(provider.units(t));
    await provider.revoke(t, unitsToRevoke(provider, t, [], []));
    expect(await members("ops")).toEqual([PLACEHOLDER]);
    expect(await members("dba")).toEqual([dn("bob"), PLACEHOLDER].sort());
    expect(await provider.held(t)).toEqual([]);
  });

  it("is idempotent: a replayed apply and a replayed revoke change nothing and do not fail", async () => {
    const provider = ldapProvider(env);
    const t = target("acme/access#2", "alice", [group("ops")]);
    await provider.apply(t);
    await provider.apply(t);
    expect(await members("ops")).toEqual([dn("alice"), PLACEHOLDER].sort());
    await provider.revoke(t, provider.units(t));
    await provider.revoke(t, provider.units(t));
    expect(await members("ops")).toEqual([PLACEHOLDER]);
  });

  it("counts references: of two overlapping grants, the first to end leaves the group to the other", async () => {
    const provider = ldapProvider(env);
    const a = target("acme/access#3", "alice", [group("ops")]);
    const b = target("acme/access#4", "alice", [group("ops"), group("dba")]);
    const standingA = standingOf(provider, a, await provider.held(a), []);
    await provider.apply(a);
    const standingB = standingOf(provider, b, await provider.held(b), [{ target: a, standing: standingA }]);
    expect(standingB).toEqual([]); // ops is held through grant A: not standing
    await provider.apply(b);
    await provider.revoke(a, unitsToRevoke(provider, a, standingA, [{ target: b, standing: standingB }]));
    expect(await members("ops")).toContain(dn("alice"));
    await provider.revoke(b, unitsToRevoke(provider, b, standingB, []));
    expect(await members("ops")).toEqual([PLACEHOLDER]);
    expect(await members("dba")).toEqual([dn("bob"), PLACEHOLDER].sort());
  });

  it("keeps standing access: a member before the grant is a member after it", async () => {
    const provider = ldapProvider(env);
    const t = target("acme/access#5", "bob", [group("dba"), group("ops")]);
    const standing = standingOf(provider, t, await provider.held(t), []);
    expect(standing).toEqual([provider.units(t)[0]]);
    await provider.apply(t);
    await provider.revoke(t, unitsToRevoke(provider, t, standing, []));
    expect(await members("dba")).toEqual([dn("bob"), PLACEHOLDER].sort());
    expect(await members("ops")).toEqual([PLACEHOLDER]);
  });

  it("maps a login to a DN of the policy's users, matching DNs as the directory does (case, escapes)", async () => {
    const provider = ldapProvider(env);
    const t = target("acme/access#6", "dana", [group("ops")], { config: { ...config, users: { Dana: `CN=Smith\\, Dana,OU=People,DC=example,DC=org` } } });
    await provider.apply(t);
    // slapd keeps the DN in its own escaping (`\2C` for the comma): the same DN, matched as one.
    expect(await members("ops")).toEqual([`cn=smith\\2c dana,${PEOPLE}`, PLACEHOLDER].sort());
    expect(await provider.held(t)).toEqual(provider.units(t));
    await provider.revoke(t, provider.units(t));
    expect(await members("ops")).toEqual([PLACEHOLDER]);
  });

  it("cannot remove the last member of a groupOfNames: the revoke fails, retryably, and says how to fix it", async () => {
    const provider = ldapProvider(env);
    const t = target("acme/access#7", "carol", [group("solo")]);
    const error = await provider.revoke(t, provider.units(t)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toContain(`${dn("carol")} is the last member of ${group("solo")}`);
    expect((error as ProviderError).message).toContain("Add a placeholder member to the group");
    expect((error as ProviderError).retryable).toBe(true);
    expect(await members("solo")).toEqual([dn("carol")]);
    // Once the group has another member, the retried revoke succeeds.
    await admin.modify(group("solo"), new Change({ operation: "add", modification: new Attribute({ type: "member", values: [PLACEHOLDER] }) }));
    await provider.revoke(t, provider.units(t));
    expect(await members("solo")).toEqual([PLACEHOLDER]);
  });

  it("explains failures without naming the URL, the host, the port or the password", async () => {
    const secretsOf = (text: string) => [JIT_PASSWORD, server.url, "127.0.0.1", server.url.split(":").at(-1)!].filter((s) => text.includes(s));
    const wrongPassword = await ldapProvider({ ...env, JIT_LDAP_PASSWORD: "not-the-password" }).apply(target("acme/access#8", "alice", [group("ops")])).then(() => undefined, (e: unknown) => e as ProviderError);
    expect(wrongPassword!.message).toBe("directory: adding to the groups failed: the directory refused the bind (check bind_dn and JIT_LDAP_PASSWORD)");
    expect(wrongPassword!.retryable).toBe(false);

    const noGroup = await ldapProvider(env).apply(target("acme/access#8", "alice", [group("nope")])).then(() => undefined, (e: unknown) => e as ProviderError);
    expect(noGroup!.message).toBe(`directory: adding to the groups failed: a group of the role does not exist (${group("nope")})`);

    const notAllowed = await ldapProvider(env).apply(target("acme/access#8", "alice", [`cn=admins,${SUFFIX}`])).then(() => undefined, (e: unknown) => e as ProviderError);
    expect(notAllowed!.message).toBe("directory: adding to the groups failed: the bind DN may not change these groups (insufficientAccessRights)");

    const down = await ldapProvider({ ...env, JIT_LDAP_URL: `ldap://127.0.0.1:${await freePort()}` }).held(target("acme/access#8", "alice", [group("ops")])).then(() => undefined, (e: unknown) => e as ProviderError);
    expect(down!.message).toBe("directory: reading group memberships failed: could not connect to the directory (connection refused)");
    expect(down!.retryable).toBe(true);

    const notLdap = await ldapProvider({ ...env, JIT_LDAP_URL: "https://directory.internal" }).held(target("acme/access#8", "alice", [group("ops")])).then(() => undefined, (e: unknown) => e as ProviderError);
    expect(notLdap!.message).toBe("directory: the environment variable JIT_LDAP_URL (url_env) must hold an ldap:// or ldaps:// URL");

    for (const e of [wrongPassword, noGroup, notAllowed, down, notLdap]) expect(secretsOf(e!.message)).toEqual([]);
    expect(await members("ops")).toEqual([PLACEHOLDER]);
  });
});

describe("DN values", () => {
  it("are escaped as RFC 4514 asks, so a value cannot add an RDN or end the DN", () => {
    expect(escapeDnValue("alice")).toBe("alice");
    expect(escapeDnValue("a,b+c\"d\\e<f>g;h=i")).toBe("a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i");
    expect(escapeDnValue(" #lead")).toBe("\\ #lead");
    expect(escapeDnValue("#x")).toBe("\\#x");
    expect(escapeDnValue("trail ")).toBe("trail\\ ");
    expect(escapeDnValue("nul\0")).toBe("nul\\00");
  });
});
