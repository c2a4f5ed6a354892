/**
 * Telegram without a network, for the terminal demo and tests: a grammY API
 * transformer that records every call and answers like the Bot API would
 * (message ids, true for edits), so the real bot code runs unchanged.
 */
import type { Transformer } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';

export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
  /** What the fake Bot API answered (absent when the call failed). */
  result?: unknown;
}

export const FAKE_BOT_INFO: UserFromGetMe = {
  id: 100000001,
  is_bot: true,
  first_name: 'Qamqor',
  username: 'qamqor_demo_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
} as UserFromGetMe;

export class InProcessTelegram {
  readonly calls: ApiCall[] = [];
  private nextMessageId = 1;
  private nextTopicId = 5001;
  /** Called for each call as it happens (the terminal demo prints from here). */
  onCall?: (call: ApiCall) => void;

  /** Errors to answer instead of a result, per method, in order (tests of failure paths). */
  private readonly failures = new Map<string, { error_code: number; description: string; parameters?: Record<string, unknown> }[]>();

  /** The next call of `method` fails the way Telegram would fail it. */
  failNext(method: string, error_code: number, description: string, parameters?: Record<string, unknown>): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), { error_code, description, parameters }]);
  }

  readonly transformer: Transformer = async (_prev, method, payload) => {
    const call: ApiCall = { method, payload: payload as Record<string, unknown> };
    this.calls.push(call);
    const failure = this.failures.get(method)?.shift();
    if (!failure) call.result = this.answer(call);
    this.onCall?.(call);
    if (failure) return { ok: false, ...failure } as never;
    return { ok: true, result: call.result } as never;
  };

  private answer({ method, payload }: ApiCall): unknown {
    const chat = { id: Number(payload.chat_id ?? 0), type: 'private' };
    switch (method) {
      case 'sendMessage':
      case 'copyMessage':
      case 'sendPhoto':
      case 'sendDocument':
        return { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat, text: payload.text };
      case 'getMe':
        return FAKE_BOT_INFO;
      case 'createForumTopic':
        return { message_thread_id: this.nextTopicId++, name: payload.name, icon_color: payload.icon_color ?? 0x6fb9f0 };
      case 'getChatMember':
        return { status: 'member', user: { id: Number(payload.user_id), is_bot: false, first_name: 'Aigerim' } };
      default:
        return true;
    }
  }

  /** Calls since the last `take`, for step-by-step assertions. */
  private seen = 0;
  take(): ApiCall[] {
    const fresh = this.calls.slice(this.seen);
    this.seen = this.calls.length;
    return fresh;
  }
}
