/**
 * What differs between MariaDB and MySQL 8 for role grants, decided from plain data (pure).
 *
 * Both servers accept a role name written as a string literal (`'analytics_read'`) in CREATE ROLE,
 * GRANT, REVOKE and SET DEFAULT ROLE: MariaDB's roles have no host part, and MySQL 8 reads `'r'`
 * as the account `'r'@'%'`. So one quoting serves both, and what differs is:
 *
 * - **Default roles.** MariaDB keeps one default role per account (`SET DEFAULT ROLE r FOR u`);
 *   MySQL 8 keeps a list (`SET DEFAULT ROLE r1, r2 TO u` replaces it).
 * - **Where memberships are read.** MariaDB: `mysql.roles_mapping` and `mysql.user.default_role`;
 *   MySQL 8: `mysql.role_edges` and `mysql.default_roles`. (`information_schema.APPLICABLE_ROLES`
 *   shows only the connected account's roles, not the requester's.)
 * - MySQL before 8.0 has no roles at all.
 *
 * Only the MariaDB side is verified against a real server (MariaDB 10.11 from Debian; Debian ships
 * no MySQL server). The MySQL 8 statements follow MySQL 8's reference manual.
 */
export type Flavour = "mariadb" | "mysql8";

/** The server's flavour from `SELECT VERSION()`, or why it cannot hold roles. */
export function flavourOf(version: string): Flavour | { unsupported: string } {
  if (/mariadb/i.test(version)) {
    const [major = 0, minor = 0] = version.split(/[.-]/).map(Number);
    // Roles came with MariaDB 10.0.5; SET DEFAULT ROLE with 10.1.
    return major > 10 || (major === 10 && minor >= 1) ? "mariadb" : { unsupported: `MariaDB ${major}.${minor} has no default roles (10.1 or later is needed)` };
  }
  const major = Number(version.split(".")[0]);
  return major >= 8 ? "mysql8" : { unsupported: `MySQL ${Number.isFinite(major) ? major : "of this version"} has no roles (8.0 or later is needed)` };
}

/** A statement with `?` placeholders for values (identifiers are quoted by the caller as literals). */
export interface Query {
  sql: string;
  params: unknown[];
}

/** The roles an account holds (one column). */
export function rolesQuery(flavour: Flavour, user: string, host: string): Query {
  return flavour === "mariadb"
    ? { sql: "SELECT Role FROM mysql.roles_mapping WHERE User = ? AND Host = ?", params: [user, host] }
    : { sql: "SELECT FROM_USER FROM mysql.role_edges WHERE TO_USER = ? AND TO_HOST = ? AND FROM_HOST = '%'", params: [user, host] };
}

/** The account's default roles (one column; MariaDB gives at most one, maybe empty). */
export function defaultRolesQuery(flavour: Flavour, user: string, host: string): Query {
  return flavour === "mariadb"
    ? { sql: "SELECT default_role FROM mysql.user WHERE User = ? AND Host = ? AND default_role <> ''", params: [user, host] }
    : { sql: "SELECT DEFAULT_ROLE_USER FROM mysql.default_roles WHERE USER = ? AND HOST = ? AND DEFAULT_ROLE_HOST = '%'", params: [user, host] };
}

/** Whether the account exists (MariaDB lists roles in mysql.user too, with an empty host). */
export function accountQuery(user: string, host: string): Query {
  return { sql: "SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?", params: [user, host] };
}

/**
 * The default roles after a grant of `role`, or undefined to leave them as they are.
 * MariaDB's single default role is set only while the account has none: a default someone chose
 * (or another live grant set) is never replaced, so revoking never has to restore one. The person
 * then activates the granted role with `SET ROLE`. MySQL 8 adds the role to its list.
 */
export function defaultsAfterApply(flavour: Flavour, current: readonly string[], role: string): string[] | undefined {
  if (current.includes(role)) return undefined;
  if (flavour === "mariadb") return current.length === 0 ? [role] : undefined;
  return [...current, role];
}

/** The default roles after revoking `role`, or undefined when it was not one of them. */
export function defaultsAfterRevoke(current: readonly string[], role: string): string[] | undefined {
  return current.includes(role) ? current.filter((r) => r !== role) : undefined;
}

/**
 * `SET DEFAULT ROLE` in the flavour's words; `quote` writes a string literal (the driver's escape).
 * An empty list is `NONE`.
 */
export function setDefaultRoles(flavour: Flavour, roles: readonly string[], account: string, quote: (s: string) => string): string {
  const list = roles.length === 0 ? "NONE" : roles.map(quote).join(", ");
  return flavour === "mariadb" ? `SET DEFAULT ROLE ${list} FOR ${account}` : `SET DEFAULT ROLE ${list} TO ${account}`;
}
