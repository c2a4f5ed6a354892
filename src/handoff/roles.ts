/**
 * Who holds a staff role in the operators' group: the ids in the
 * configuration, and the operators and supervisors an admin granted at run
 * time (kept in the store, so every process and a restart see them).
 */
import type { HandoffParts } from './deps.js';

/** A role an admin can grant or revoke with /grant and /revoke. */
export type StaffRole = 'operator' | 'supervisor';

export class StaffRoles {
  constructor(private readonly deps: Pick<HandoffParts, 'store' | 'config'>) {}

  /** The operators in the configuration (not the granted ones). */
  operatorIds(): number[] {
    return this.deps.config.operatorIds;
  }

  /** May hold a case: a configured operator or supervisor, or one of `granted`. */
  isOperator(userId: number, granted: number[] = []): boolean {
    const c = this.deps.config;
    return c.operatorIds.includes(userId) || c.supervisorIds.includes(userId) || granted.includes(userId);
  }

  /** The ids granted this role at run time, in addition to the configuration. */
  granted(role: StaffRole): Promise<number[]> {
    return this.deps.store.granted(role);
  }

  grant(role: StaffRole, userId: number): Promise<void> {
    return this.deps.store.grantRole(role, userId);
  }

  revoke(role: StaffRole, userId: number): Promise<void> {
    return this.deps.store.revokeRole(role, userId);
  }
}
