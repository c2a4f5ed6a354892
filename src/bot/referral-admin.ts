/**
 * Admins' referral commands in the operators' group (the admins of /params):
 * /invite <worker-id> (a one-time code and its t.me link, sent privately when
 * the admin has a chat with the bot), /unlink <worker-id>, /directory reload
 * (the old directory stays when the new one has problems, each named by file
 * and entry; a good one moves the open referrals of holders who no longer fit,
 * and the admin hears how many), /export [from] [to] (CSV without names,
 * phones or free text).
 */
import { Composer, InputFile } from 'grammy';
import type { Lang } from '../engine/types.js';
import { chatRef } from '../log.js';
import { DirectoryError } from '../referral/directory.js';
import type { Directory } from '../referral/types.js';
import type { BotContext } from './context.js';

export interface ReferralAdminOptions {
  isAdmin: (userId: number | undefined) => Promise<boolean>;
  refuse: (ctx: BotContext, what: string) => Promise<void>;
  staffLang: Lang;
}

const DAY_MS = 86_400_000;
/** Problems listed in one reply; the rest are counted in the log line. */
const PROBLEMS_SHOWN = 20;

/** Midnight in Almaty (UTC+5, no daylight saving) of an ISO date, as epoch ms; undefined when not a date. */
export function almatyMidnight(iso: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) return undefined;
  const at = Date.parse(`${iso}T00:00:00+05:00`);
  return Number.isFinite(at) && new Date(at + 5 * 3600_000).toISOString().slice(0, 10) === iso ? at : undefined;
}

export function referralAdminComposer(opts: ReferralAdminOptions): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const staff = (ctx: BotContext) => ctx.deps.translator.bind(opts.staffLang);
  const thread = (ctx: BotContext) => ({ message_thread_id: ctx.msg?.message_thread_id });

  /** Admin and configured, or answered and stopped. */
  const ready = async (ctx: BotContext, what: string) => {
    if (!(await opts.isAdmin(ctx.from?.id))) {
      await opts.refuse(ctx, what);
      return undefined;
    }
    const referrals = ctx.deps.referrals;
    if (!referrals) await ctx.reply(staff(ctx)('referral:ops.unavailable'), thread(ctx));
    return referrals;
  };

  composer.command('invite', async (ctx) => {
    const referrals = await ready(ctx, '/invite');
    if (!referrals) return;
    const t = staff(ctx);
    const id = ctx.match.trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) return void (await ctx.reply(t('referral:admin.inviteUsage'), thread(ctx)));
    if (!referrals.service.directory().workers.some((w) => w.id === id)) return void (await ctx.reply(t('referral:admin.unknownWorker', { id }), thread(ctx)));
    const invite = await referrals.service.issueInvite(id);
    const until = new Date(invite.expiresAt + 5 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
    const text = t('referral:admin.invite', { id, code: invite.code, until, link: `https://t.me/${ctx.me.username}?start=w-${invite.code}` });
    ctx.deps.log.info({ admin: chatRef(ctx.from!.id, ctx.deps.logSalt), worker: id }, 'invite code issued');
    // Privately when possible: the code links an account to whoever uses it first.
    const privately = await ctx.api.sendMessage(ctx.from!.id, text).then(
      () => true,
      () => false,
    );
    if (privately) return void (await ctx.reply(t('referral:admin.inviteSentPrivately', { id }), thread(ctx)));
    await ctx.reply(`${t('referral:admin.inviteOpenPrivate')}\n\n${text}`, thread(ctx));
  });

  composer.command('unlink', async (ctx) => {
    const referrals = await ready(ctx, '/unlink');
    if (!referrals) return;
    const t = staff(ctx);
    const id = ctx.match.trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) return void (await ctx.reply(t('referral:admin.unlinkUsage'), thread(ctx)));
    const user = await referrals.service.telegramOf(id);
    const was = await referrals.service.unlink(id);
    // Their chat's own menu (/referrals) goes with the link.
    if (user !== undefined) await ctx.api.deleteMyCommands({ scope: { type: 'chat', chat_id: user } }).catch(() => undefined);
    ctx.deps.log.info({ admin: chatRef(ctx.from!.id, ctx.deps.logSalt), worker: id, was }, 'worker unlinked');
    await ctx.reply(t(was ? 'referral:admin.unlinked' : 'referral:admin.notLinked', { id }), thread(ctx));
  });

  composer.command('directory', async (ctx) => {
    const referrals = await ready(ctx, '/directory');
    if (!referrals) return;
    const t = staff(ctx);
    if (ctx.match.trim() !== 'reload') return void (await ctx.reply(t('referral:admin.reloadUsage'), thread(ctx)));
    let directory: Directory;
    try {
      directory = referrals.loadDirectory();
    } catch (e) {
      const problems = e instanceof DirectoryError ? e.problems : [(e as Error).message];
      ctx.deps.log.warn({ problems: problems.length }, 'directory reload refused; the previous one stays');
      const shown = problems.slice(0, PROBLEMS_SHOWN).map((p) => `• ${p}`);
      if (problems.length > PROBLEMS_SHOWN) shown.push(`… +${problems.length - PROBLEMS_SHOWN}`);
      return void (await ctx.reply([t('referral:admin.reloadFailed'), ...shown].join('\n').slice(0, 4000), thread(ctx)));
    }
    // Loaded: from here the new directory is in use, and the referrals it strands are moved.
    const moved = await referrals.service.reloadDirectory(directory);
    ctx.deps.log.info({ admin: chatRef(ctx.from!.id, ctx.deps.logSalt), workers: directory.workers.length, ...moved }, 'directory reloaded');
    const lines = [t('referral:admin.reloaded', { orgs: directory.organizations.length, workers: directory.workers.length }), t('referral:admin.reloadRerouted', { ...moved })];
    if (moved.unrouted) lines.push(t('referral:admin.reloadUnrouted'));
    if (directory.example) lines.push(t('referral:admin.reloadedExample'));
    await ctx.reply(lines.join('\n'), thread(ctx));
  });

  composer.command('export', async (ctx) => {
    const referrals = await ready(ctx, '/export');
    if (!referrals) return;
    const t = staff(ctx);
    const args = ctx.match.trim().split(/\s+/).filter(Boolean);
    const from = args[0] ? almatyMidnight(args[0]) : undefined;
    const toDay = args[1] ? almatyMidnight(args[1]) : undefined;
    if (args.length > 2 || (args[0] && from === undefined) || (args[1] && toDay === undefined)) return void (await ctx.reply(t('referral:admin.exportUsage'), thread(ctx)));
    // "to" is the last day included.
    const to = toDay === undefined ? undefined : toDay + DAY_MS;
    const csv = await referrals.service.exportCsv(from, to);
    const rows = Math.max(0, csv.trim().split(/\r?\n/).length - 1);
    const vars = { from: args[0] ?? '…', to: args[1] ?? '…', n: rows };
    ctx.deps.log.info({ admin: chatRef(ctx.from!.id, ctx.deps.logSalt), rows }, 'referrals exported');
    if (!rows) return void (await ctx.reply(t('referral:admin.exportEmpty', vars), thread(ctx)));
    const name = `referrals-${args[0] ?? 'all'}${args[1] ? `-${args[1]}` : ''}.csv`;
    await ctx.replyWithDocument(new InputFile(Buffer.from(csv, 'utf8'), name), { ...thread(ctx), caption: t('referral:admin.exportCaption', vars) });
  });

  return composer;
}
