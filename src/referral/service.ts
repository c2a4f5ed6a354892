/**
 * Referrals to social workers: creates them (routed by SPEC §9), lets the holder or the
 * territory's supervisor act on them, keeps the family informed, and keeps the reminder
 * clocks. Every status change goes through the referral machine (flows/referral/machine.ts)
 * and is written compare-and-set with its audit line and its notices in one step; the notices
 * reach people through the delivery stream (src/referral/delivery.ts → ReferralNotifier).
 *
 * The service never formats a message and never talks to Telegram.
 */
import { randomInt } from 'node:crypto';
import type { ReferralMachineEvent } from '../../flows/referral/machine.js';
import type { WorkingHours } from '../handoff/hours.js';
import { auditName, authorize, redactFor, supervises, type Access } from './access.js';
import { ReferralDelivery, type ReferralDeliveryOptions } from './delivery.js';
import { exportCsv } from './export.js';
import { holderNoLongerFits, requestOf } from './holder-fit.js';
import { applyEvent, auditDetail, declinedBy, familyEvents, holderOf, initialState, noticesFor, reassignNotices, workerEvent } from './lifecycle.js';
import { INVITE_HOURS, issueInvite, redeemInvite } from './links.js';
import { route } from './routing.js';
import type { CapacityGuard, ReferralStore } from './store.js';
import { ackStepAt, nextAckStep, supervisorFor, TIMER_LEASE_MS } from './timers.js';
import type {
  Directory,
  DirectoryWorker,
  Referral,
  ReferralAction,
  ReferralActor,
  ReferralAuditEntry,
  ReferralCaller,
  ReferralEvent,
  ReferralPacket,
  Refusal,
  Route,
  RoutingRequest,
} from './types.js';

export interface ReferralConfig {
  /** Minutes of working time before an unacknowledged referral gets a reminder, and again before it is escalated. */
  ackMinutes: number;
  /** Working hours the reminder clock counts in (Asia/Almaty). */
  hours: WorkingHours;
  /** How long an invite code can be redeemed. Default 72 hours. */
  inviteHours?: number;
}

export interface ReferralServiceDeps {
  store: ReferralStore;
  directory: Directory;
  config: ReferralConfig;
  now?: () => number;
  /** Referral ids, e.g. "R-7K3QX": short, no personal data. */
  newId?: () => string;
  /**
   * Every region id (SPEC §4), where a reload looks for referrals whose holder no longer fits.
   * By default the regions the old and new directories serve, which misses a region left with nobody.
   */
  regions?: readonly string[];
}

export interface CreateInput {
  packet: ReferralPacket;
  /** The family's private chat, to keep them informed; absent when an operator refers a family who is not on Telegram. */
  familyChatId?: number;
  source: 'operator' | 'family';
  actor: ReferralActor;
}

export interface CreateResult {
  referral: Referral;
  /** Where §9 sent it: a worker, a supervisor (nobody fits or has room), or nobody. */
  route: Route;
}

export type ActResult = { ok: true; referral: Referral } | { ok: false; refusal: Refusal; referral?: Referral };

export type ViewResult = { ok: true; referral: Referral } | { ok: false; refusal: Refusal };

export type RedeemResult = { ok: true; workerId: string; replaced?: number } | { ok: false; reason: 'invalid' | 'unknown_worker' };

export interface Invite {
  /** What the worker sends: `/start w-<code>` (t.me/<bot>?start=w-<code>). */
  code: string;
  workerId: string;
  expiresAt: number;
}

/** What a directory reload did to open referrals whose holder no longer fits, counted as SPEC §9 counts routes. */
export interface DirectoryReload {
  /** Moved to a worker who fits. */
  routed: number;
  /** Moved to the territory's supervisor (§9 step 3). */
  toSupervisors: number;
  /** Nobody could take them: they stay with their holder, and the next reload tries again. */
  unrouted: number;
}

/** The audit reason of a re-route after a reload. */
export const DIRECTORY_RELOADED = 'directory reloaded';

export class UnknownWorkerError extends Error {}

const ID_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ'; // no 0/O, 1/I/L
export const randomReferralId = (): string => `R-${Array.from({ length: 6 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('')}`;

/** Retries of a compare-and-set that lost to a concurrent change. */
const CAS_TRIES = 5;
/** A create also retries when its worker filled up meanwhile; each retry routes on fresher counts. */
const CREATE_TRIES = 20;

export class ReferralService {
  private readonly now: () => number;
  private readonly newId: () => string;
  private current: Directory;
  private byId: Map<string, DirectoryWorker>;
  /** The count of directory reloads this process has followed (followReloads). */
  private seenReload: number | undefined;

  constructor(private readonly deps: ReferralServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? randomReferralId;
    this.current = deps.directory;
    this.byId = new Map(deps.directory.workers.map((w) => [w.id, w]));
  }

  /** The service's clock, so the bot's side reads time where the timers do. */
  time(): number {
    return this.now();
  }

  /** The directory routing uses now. */
  directory(): Directory {
    return this.current;
  }

  /** Routing uses this directory from now on; open referrals keep their holder (reloadDirectory moves those who no longer fit). */
  setDirectory(directory: Directory): void {
    this.current = directory;
    this.byId = new Map(directory.workers.map((w) => [w.id, w]));
  }

  /**
   * An admin's reload: the new directory is used at once, and every open referral whose holder
   * no longer fits it (gone, without its profile, language or area, turned supervisor) is routed
   * again by §9, oldest first, each counting against capacity for the next, with REROUTE. The
   * new holder gets the card ('reassigned_to_you'), the old one, if linked, 'reassigned_away';
   * the family nothing, as on a supervisor's reassign. One nobody can take stays where it is.
   */
  async reloadDirectory(directory: Directory): Promise<DirectoryReload> {
    const before = this.current;
    this.setDirectory(directory);
    const regions = new Set([...(this.deps.regions ?? []), ...[...before.workers, ...directory.workers].flatMap((w) => w.areas.map((a) => a.region))]);
    const open = new Map((await Promise.all([...regions].map((r) => this.deps.store.openInRegion(r)))).flat().map((r) => [r.id, r]));
    const stranded = [...open.values()].filter((r) => holderNoLongerFits(r, (id) => this.byId.get(id))).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    const done: DirectoryReload = { routed: 0, toSupervisors: 0, unrouted: 0 };
    for (const referral of stranded) {
      const to = await this.rerouteStranded(referral.id);
      if (to?.to === 'worker') done.routed++;
      else if (to?.to === 'supervisor') done.toSupervisors++;
      else if (to) done.unrouted++;
    }
    this.seenReload = await this.deps.store.bumpDirectoryVersion();
    return done;
  }

  /**
   * Another process's reload reaches this one: when the count of reloads has moved since this
   * process last looked, it reads its directory file again (the referrals were already moved by
   * the process that reloaded). The first look only notes the count: at start the file is fresh.
   * A file that no longer loads keeps the directory in use ('failed', to be logged).
   */
  async followReloads(read: () => Directory): Promise<'same' | 'reloaded' | 'failed'> {
    const version = await this.deps.store.directoryVersion();
    const first = this.seenReload === undefined;
    if (first || version === this.seenReload) {
      this.seenReload = version;
      return 'same';
    }
    this.seenReload = version;
    try {
      this.setDirectory(read());
      return 'reloaded';
    } catch {
      return 'failed';
    }
  }

  /** The directory entry of a worker id (undefined when no longer in the directory). */
  worker(workerId: string): DirectoryWorker | undefined {
    return this.byId.get(workerId);
  }

  /**
   * Routes the packet (§9, open counts from the store), stores the referral, and publishes:
   * 'new' to the worker (or supervisor), 'received' to the family — or 'not_routed' when
   * nobody can take it. Schedules the acknowledgement reminder.
   */
  async create(input: CreateInput): Promise<CreateResult> {
    const { packet } = input;
    const place = { region: packet.region, ...(packet.district ? { district: packet.district } : {}) };
    const request: RoutingRequest = { id: 'new', ...place, profile: packet.profile, language: packet.lang, urgent: packet.urgent };
    for (let attempt = 0; attempt < CREATE_TRIES; attempt++) {
      // Routed again on every attempt: a refused write may mean the worker filled up meanwhile.
      const to = await this.route(request, []);
      const at = this.now();
      const referral: Referral = {
        id: this.newId(),
        status: 'requested',
        version: 1,
        snapshot: initialState({ route: to, ...place, profile: packet.profile }),
        source: input.source,
        ...(input.familyChatId !== undefined ? { familyChatId: input.familyChatId } : {}),
        packet,
        ...place,
        profile: packet.profile,
        lang: packet.lang,
        urgent: packet.urgent,
        ...(to.to === 'worker' ? { workerId: to.workerId } : {}),
        ...(to.to === 'supervisor' ? { supervisorId: to.workerId } : {}),
        createdAt: at,
        updatedAt: at,
        ...(to.to !== 'none' ? { assignedAt: at } : {}),
        reminders: 0,
      };
      const events: ReferralEvent[] = [
        ...(to.to !== 'none' ? [workerEvent(referral, 'new', to.workerId, 1)] : []),
        ...familyEvents(referral, [to.to === 'none' ? 'not_routed' : 'received'], 1),
      ];
      // Scheduled first: a timer without its referral does nothing, a referral without its timer would never remind.
      await this.scheduleAck(referral);
      const detail = to.to === 'none' ? 'none' : `${to.to}:${to.workerId}`;
      if (await this.deps.store.create(referral, { what: 'created', who: auditName(input.actor), at, detail }, events, this.guard(to, packet.urgent))) return { referral, route: to };
      await this.deps.store.cancelTimer(referral.id, 'ack');
    }
    throw new Error('referral: could not be stored (ids taken or workers filling up concurrently)');
  }

  /**
   * One action of a worker or supervisor. The bot passes `{ kind: 'user', userId }` of whoever
   * pressed the button; only the linked holder, or a supervisor whose areas cover the
   * referral's region, may act (REASSIGN: supervisors only). A refused attempt is audited and
   * returned. Family notices: ACCEPT → 'accepted' then 'contact_soon'; VISIT_PLANNED →
   * 'visit_planned'; COMPLETE → 'completed' (could_not_reach → 'not_reached'); DECLINE /
   * REDIRECT → re-routed (§9, without whoever declined) → 'rerouted' (or 'not_routed'). Worker
   * notices: 'new' to a new holder, 'reassigned_away' / 'reassigned_to_you' on REASSIGN.
   */
  async act(referralId: string, caller: ReferralCaller, action: ReferralAction): Promise<ActResult> {
    for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
      const referral = await this.deps.store.get(referralId);
      if (!referral) return { ok: false, refusal: 'not_found' };
      const access = await this.authorize(referral, caller, action.type === 'REASSIGN');
      if (!access.ok) return this.refuse(referral, access.who, action.type, access.refusal);
      if (action.type === 'REASSIGN' && this.byId.get(action.workerId)?.role !== 'worker') return this.refuse(referral, access.who, action.type, 'unknown_worker');
      const event = await this.machineEvent(referral, action, access.workerId);
      const next = applyEvent(referral, event, this.now());
      if (!next) return this.refuse(referral, access.who, action.type, 'not_now');
      const newClock = next.assignedAt !== referral.assignedAt;
      if (newClock) await this.scheduleAck(next);
      const audit = { what: action.type, who: access.who, at: next.updatedAt, ...auditDetail(action, next) };
      const guard = event.type === 'DECLINE' || event.type === 'REDIRECT' ? this.guard(event.route, referral.urgent) : undefined;
      const written = await this.deps.store.update(referralId, referral.version, next, audit, noticesFor(referral, next, action), guard);
      if (!written) continue;
      if (!newClock && written.status !== 'requested') await this.deps.store.cancelTimer(referralId, 'ack');
      return { ok: true, referral: written };
    }
    return { ok: false, refusal: 'conflict' };
  }

  /**
   * Opens a referral for someone to read (audited as "viewed"), with the same rule as act:
   * the holder or the territory's supervisor. A psychologist referral's note is removed
   * unless the viewer is a psychologist.
   */
  async view(referralId: string, caller: ReferralCaller): Promise<ViewResult> {
    const referral = await this.deps.store.get(referralId);
    if (!referral) return { ok: false, refusal: 'not_found' };
    const access = await this.authorize(referral, caller, false);
    if (!access.ok) {
      await this.refuse(referral, access.who, 'view', access.refusal);
      return { ok: false, refusal: access.refusal };
    }
    await this.deps.store.audit(referralId, { what: 'viewed', who: access.who, at: this.now() });
    return { ok: true, referral: this.redactFor(referral, access.workerId) };
  }

  /** The referral as a directory worker may see it (psychologists' notes for psychologists only). */
  redactFor(referral: Referral, viewerId: string | undefined): Referral {
    return redactFor(referral, viewerId === undefined ? undefined : this.byId.get(viewerId));
  }

  /**
   * /forget: the family's unfinished referrals are cancelled (the holder is told 'withdrawn',
   * with no data), and every referral of theirs loses its packet and chat id. Returns the ids touched.
   */
  async forgetFamily(chatId: number): Promise<string[]> {
    const touched: string[] = [];
    for (const found of await this.deps.store.ofFamily(chatId)) {
      for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
        const referral = await this.deps.store.get(found.id);
        const next = referral && applyEvent(referral, { type: 'CANCEL' }, this.now());
        if (!referral || !next) break;
        const holder = holderOf(referral);
        const events = holder ? [workerEvent(next, 'withdrawn', holder)] : [];
        if (await this.deps.store.update(referral.id, referral.version, next, { what: 'cancelled', who: 'family', at: next.updatedAt, detail: 'withdrawn' }, events)) {
          await this.deps.store.cancelTimer(referral.id, 'ack');
          break;
        }
      }
      await this.deps.store.erase(found.id, { what: 'erased', who: 'family', at: this.now() });
      touched.push(found.id);
    }
    return touched;
  }

  /** A worker's open referrals (requested, accepted, in progress), oldest first; audited as "listed". */
  async listOpenFor(workerId: string): Promise<Referral[]> {
    const open = await this.deps.store.openOf(workerId);
    await this.audited(open, `worker:${workerId}`);
    return open.map((r) => this.redactFor(r, workerId));
  }

  /** Open referrals in a supervisor's areas, oldest first (notes filtered as in view). Empty for a non-supervisor. */
  async listTerritory(supervisorId: string): Promise<Referral[]> {
    const supervisor = this.byId.get(supervisorId);
    if (supervisor?.role !== 'supervisor') return [];
    const regions = [...new Set(supervisor.areas.map((a) => a.region))];
    const found = (await Promise.all(regions.map((r) => this.deps.store.openInRegion(r)))).flat();
    const mine = found.filter((r) => supervises(supervisor, r)).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    await this.audited(mine, `worker:${supervisorId}`);
    return mine.map((r) => this.redactFor(r, supervisorId));
  }

  /**
   * "What is happening with my request?": the family's referrals, newest first. Not audited:
   * the audit records who else saw a family's data, and the bot asks this on many screens.
   */
  async statusFor(chatId: number): Promise<Referral[]> {
    return (await this.deps.store.ofFamily(chatId)).sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
  }

  /** The referral's audit trail, oldest first (admins and tests). */
  auditTrail(referralId: string): Promise<ReferralAuditEntry[]> {
    return this.deps.store.auditTrail(referralId);
  }

  /**
   * Reminder and escalation clocks whose deadline passed: each due timer is claimed by
   * exactly one caller, however many processes tick. Returns how many fired.
   */
  async fireDueTimers(now = this.now()): Promise<number> {
    let fired = 0;
    for (const timer of await this.deps.store.takeDue(now, TIMER_LEASE_MS)) {
      if (await this.fireAck(timer.referralId, now)) fired++;
    }
    return fired;
  }

  /** Referrals created in [from, to) as CSV for official reporting: no names, phones, notes or free text. */
  async exportCsv(from = 0, to = Number.MAX_SAFE_INTEGER): Promise<string> {
    return exportCsv(await this.deps.store.createdBetween(from, to));
  }

  /** The consumer that hands the notices to the bot's notifier (psychologists' notes redacted for others). */
  delivery(options: Omit<ReferralDeliveryOptions, 'store' | 'redact'>): ReferralDelivery {
    return new ReferralDelivery({ ...options, store: this.deps.store, redact: (r, workerId) => this.redactFor(r, workerId) });
  }

  // ── Worker links ─────────────────────────────────────────────────────────

  /** An admin issues a one-time code for a directory worker id (single use, expires after inviteHours). Throws UnknownWorkerError. */
  async issueInvite(workerId: string): Promise<Invite> {
    if (!this.byId.has(workerId)) throw new UnknownWorkerError(workerId);
    const invite = await issueInvite(this.deps.store, workerId, this.now(), this.deps.config.inviteHours ?? INVITE_HOURS);
    return { ...invite, workerId };
  }

  /** `/start w-<code>`: links the Telegram user to the worker (one account per worker; relinking replaces). */
  async redeemInvite(code: string, telegramUserId: number): Promise<RedeemResult> {
    const workerId = await redeemInvite(this.deps.store, code);
    if (workerId === undefined) return { ok: false, reason: 'invalid' };
    if (!this.byId.has(workerId)) return { ok: false, reason: 'unknown_worker' };
    const replaced = await this.deps.store.link(workerId, telegramUserId);
    return { ok: true, workerId, ...(replaced !== undefined ? { replaced } : {}) };
  }

  /** An admin unlinks a worker's Telegram account. Returns whether one was linked. */
  unlink(workerId: string): Promise<boolean> {
    return this.deps.store.unlink(workerId);
  }

  /** The directory worker id a Telegram user is linked to (undefined when not linked). */
  workerOf(telegramUserId: number): Promise<string | undefined> {
    return this.deps.store.workerOf(telegramUserId);
  }

  /** The Telegram user id linked to a worker (undefined when not linked): the reverse of workerOf. */
  telegramOf(workerId: string): Promise<number | undefined> {
    return this.deps.store.userOf(workerId);
  }

  // ── Inside ───────────────────────────────────────────────────────────────

  /** §9 against the current directory and open counts, leaving out workers who already declined it. */
  private async route(request: RoutingRequest, without: readonly string[]): Promise<Route> {
    const here = this.current.workers.filter((w) => !without.includes(w.id) && w.areas.some((a) => a.region === request.region));
    const counts = await this.deps.store.openCounts(here.map((w) => w.id));
    return route({ ...this.current, workers: here }, request, (id) => counts.get(id) ?? 0);
  }

  /**
   * One referral whose holder no longer fits, routed again (§9, fresh counts, without those who
   * declined it). Undefined when, by now, it is closed or its holder fits again.
   */
  private async rerouteStranded(referralId: string): Promise<Route | undefined> {
    for (let attempt = 0; attempt < CREATE_TRIES; attempt++) {
      const referral = await this.deps.store.get(referralId);
      if (!referral || !holderNoLongerFits(referral, (id) => this.byId.get(id))) return undefined;
      const to = await this.route(requestOf(referral), declinedBy(referral));
      if (to.to === 'none') return to;
      const next = applyEvent(referral, { type: 'REROUTE', route: to }, this.now());
      if (!next) return undefined;
      await this.scheduleAck(next);
      const old = holderOf(referral);
      // An old holder who was never linked has nobody to tell; the notice would only end as a dead letter.
      const oldLinked = old !== undefined && (await this.deps.store.userOf(old)) !== undefined;
      const events = reassignNotices(referral, next).filter((e) => e.kind !== 'worker' || e.notice !== 'reassigned_away' || oldLinked);
      const audit = { what: 'REROUTE', who: 'system', at: next.updatedAt, detail: `${DIRECTORY_RELOADED}→${to.workerId}` };
      if (await this.deps.store.update(referralId, referral.version, next, audit, events, this.guard(to, referral.urgent))) return to;
    }
    return { to: 'none' };
  }

  /**
   * Routing read the open counts before the write; the write checks them again, so two
   * referrals routed at once cannot both take a worker's last place. Urgent ones may exceed
   * capacity (§9 step 2), and supervisors are not limited.
   */
  private guard(to: Route, urgent: boolean): CapacityGuard | undefined {
    if (to.to !== 'worker' || urgent) return undefined;
    const capacity = this.byId.get(to.workerId)?.capacity;
    return capacity === undefined ? undefined : { workerId: to.workerId, limit: capacity };
  }

  private authorize(referral: Referral, caller: ReferralCaller, supervisorsOnly: boolean): Promise<Access> {
    return authorize(referral, caller, { supervisorsOnly, workers: this.byId, workerOf: (userId) => this.deps.store.workerOf(userId) });
  }

  /** A refused attempt: in the audit (who, which action, why), and returned for the bot to log. */
  private async refuse(referral: Referral, who: string, what: string, refusal: Refusal): Promise<ActResult> {
    await this.deps.store.audit(referral.id, { what: 'refused', who, at: this.now(), detail: `${what}:${refusal}` });
    return { ok: false, refusal, referral };
  }

  /** The machine event for an action: re-routing is computed here, so the machine stays pure. */
  private async machineEvent(referral: Referral, action: ReferralAction, actorId: string | undefined): Promise<ReferralMachineEvent> {
    if (action.type !== 'DECLINE' && action.type !== 'REDIRECT') return action;
    const without = [...declinedBy(referral), ...(actorId ? [actorId] : []), ...(referral.workerId ? [referral.workerId] : [])];
    const by = actorId ?? 'system';
    const base = { id: referral.id, profile: referral.profile, language: referral.lang, urgent: referral.urgent };
    if (action.type === 'DECLINE') {
      return { type: 'DECLINE', reason: action.reason, by, route: await this.route(requestOf(referral), without) };
    }
    const region = action.region ?? referral.region;
    // A new region drops the old district unless one is given.
    const district = action.district ?? (region === referral.region ? referral.district : undefined);
    const profile = action.profile ?? referral.profile;
    const request: RoutingRequest = { ...base, region, profile, ...(district ? { district } : {}) };
    return { type: 'REDIRECT', by, region, ...(district ? { district } : {}), profile, route: await this.route(request, without) };
  }

  private async scheduleAck(referral: Referral): Promise<void> {
    const step = nextAckStep(this.deps.config, referral);
    if (step.kind === 'none') await this.deps.store.cancelTimer(referral.id, 'ack');
    else await this.deps.store.schedule(referral.id, 'ack', step.dueAt);
  }

  private async audited(referrals: readonly Referral[], by: string): Promise<void> {
    const at = this.now();
    await Promise.all(referrals.map((r) => this.deps.store.audit(r.id, { what: 'listed', who: by, at })));
  }

  /** One ack timer: a reminder to the holder, then an escalation to the territory's supervisor. */
  private async fireAck(referralId: string, now: number): Promise<boolean> {
    for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
      const referral = await this.deps.store.get(referralId);
      const step = referral ? ackStepAt(this.deps.config, referral, now) : ({ kind: 'none' } as const);
      const holder = referral && holderOf(referral);
      if (!referral || !holder || step.kind === 'none') {
        await this.deps.store.cancelTimer(referralId, 'ack');
        return false;
      }
      if (step.kind === 'wait') {
        await this.deps.store.schedule(referralId, 'ack', step.dueAt);
        return false;
      }
      let event: ReferralMachineEvent;
      let events: ReferralEvent[];
      let detail: string | undefined;
      if (step.kind === 'remind') {
        event = { type: 'REMIND' };
        events = [workerEvent(referral, 'reminder', holder)];
      } else {
        const supervisorIds = this.current.workers.filter((w) => w.role === 'supervisor').map((w) => w.id);
        const counts = await this.deps.store.openCounts(supervisorIds);
        const supervisorId = supervisorFor(this.current, referral, (id) => counts.get(id) ?? 0);
        event = { type: 'ESCALATE', supervisorId: supervisorId ?? null };
        events = supervisorId && supervisorId !== holder ? [workerEvent(referral, 'escalated', supervisorId)] : [];
        detail = supervisorId ?? 'no_supervisor';
      }
      const next = applyEvent(referral, event, now);
      if (!next) return false;
      const audit = { what: step.kind === 'remind' ? 'reminder' : 'escalated', who: 'system', at: now, ...(detail ? { detail } : {}) };
      const written = await this.deps.store.update(referralId, referral.version, next, audit, events);
      if (!written) continue;
      await this.scheduleAck(written);
      return true;
    }
    return false;
  }
}
