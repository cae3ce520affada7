// The faqchat widget: one <script data-key="pk_…" async> tag, everything inside a shadow root.
import { h, icon } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { readEvents } from './sse.js';
import { createSheet, safeColor } from './styles.js';

interface FaqchatApi {
  open(): void;
  close(): void;
  reset(): void;
}
interface Saved {
  /** conversationId */
  c?: string;
  /** visitorId */
  v?: string;
}
interface ChatMessage {
  role: string;
  content: string;
}
/** What the server says went wrong: a problem+json code, or 'net' when it could not be reached. */
interface Failure {
  code?: string;
}

const CHAT_ICON = 'M4 3h16a2 2 0 012 2v11a2 2 0 01-2 2H8l-5 4V5a2 2 0 011-2z';
const CLOSE_ICON = 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z';
const SEND_ICON = 'M3 20V4l19 8z';

const FRIENDLY: Record<string, string> = {
  INVALID_WIDGET_KEY: 'This chat is not available right now.',
  ORIGIN_NOT_ALLOWED: 'This chat is not enabled on this website.',
  RATE_LIMITED: 'You are sending messages too quickly. Please wait a minute and try again.',
  DAILY_LIMIT_REACHED: 'This chat has reached its limit for today. Please try again tomorrow.',
  net: 'Cannot reach the chat service. Check your connection and try again.',
};
const BY_STATUS: Record<number, string> = { 401: 'INVALID_WIDGET_KEY', 403: 'ORIGIN_NOT_ALLOWED', 429: 'RATE_LIMITED' };
const friendly = (error: unknown): string =>
  FRIENDLY[(error as Failure | null)?.code ?? 'net'] ?? 'The assistant is temporarily unavailable. Please try again later.';

const warn = (...args: unknown[]): void => console.warn('faqchat:', ...args);

/** Runs `fn` so that neither a throw nor a rejection ever reaches the host page. */
const safe =
  <A extends unknown[]>(fn: (...args: A) => unknown) =>
  (...args: A): void => {
    try {
      (fn(...args) as Promise<unknown> | undefined)?.catch?.(warn);
    } catch (error) {
      warn(error);
    }
  };

const randomId = (): string => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join('');

const start = async (script: HTMLScriptElement | null, api: FaqchatApi): Promise<void> => {
  const data = script?.dataset ?? {};
  const key = data.key;
  if (!key) return warn('the script tag needs data-key="pk_…"');
  const base = (data.api || new URL(script!.src).origin).replace(/\/+$/, '');
  const query = `?key=${encodeURIComponent(key)}`;
  const storageKey = `faqchat:${key}`;

  let saved: Saved = {};
  const persist = (): void => {
    try {
      localStorage.setItem(storageKey, JSON.stringify(saved));
    } catch {
      // Storage may be disabled (privacy modes): the widget still works, it just forgets.
    }
  };
  try {
    saved = JSON.parse(localStorage.getItem(storageKey) || '{}') || {};
  } catch {
    saved = {};
  }
  saved.v ||= randomId();
  persist();

  /** fetch that turns a non-2xx answer into a Failure carrying the problem code. */
  const call = async (path: string, init?: RequestInit): Promise<Response> => {
    const response = await fetch(base + path, init);
    if (!response.ok) {
      const problem = (await response.json().catch(() => null)) as Failure | null;
      throw { code: problem?.code || BY_STATUS[response.status] || 'x' } satisfies Failure;
    }
    return response;
  };
  const history = (): Promise<{ messages: ChatMessage[] }> | undefined =>
    saved.c
      ? call(`/v1/widget/conversations/${encodeURIComponent(saved.c)}${query}&visitorId=${encodeURIComponent(saved.v!)}`).then((r) => r.json())
      : undefined;

  const [config, restored] = await Promise.allSettled([call(`/v1/widget/config${query}`).then((r) => r.json()), history()]);
  const settings: { color?: string; title?: string; greeting?: string } = config.status === 'fulfilled' ? config.value : {};
  const title = settings.title || 'Chat';

  // Build the UI.
  const host = document.createElement('faqchat-widget');
  // Open mode: a closed root is no security boundary against host scripts, and open lets tests and tools inspect it.
  const root = host.attachShadow({ mode: 'open' });
  root.adoptedStyleSheets = [createSheet(safeColor(settings.color), data.position === 'left' ? 'left' : 'right')];

  const bubbleIcon = icon(CHAT_ICON);
  const bubble = h('button', { type: 'button', class: 'b', 'aria-label': `Open chat: ${title}`, 'aria-expanded': 'false', 'aria-controls': 'p' }, bubbleIcon);
  const newButton = h('button', { type: 'button', title: 'Start a new conversation' }, 'New chat');
  const closeButton = h('button', { type: 'button', 'aria-label': 'Close chat' }, icon(CLOSE_ICON));
  const log = h('div', { class: 'l', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' });
  const input = h('input', { type: 'text', 'aria-label': 'Your question', placeholder: 'Ask a question…', maxlength: '1000', autocomplete: 'off' });
  const send = h('button', { type: 'submit', 'aria-label': 'Send' }, icon(SEND_ICON));
  const form = h('form', { class: 'f' }, input, send);
  const panel = h('div', { id: 'p', class: 'p', role: 'dialog', 'aria-label': title, hidden: '' }, h('div', { class: 'h' }, h('h2', null, title), newButton, closeButton), log, form);
  root.append(bubble, panel);

  const scroll = (): void => {
    log.scrollTop = log.scrollHeight;
  };
  const add = (kind: 'u' | 'a' | 'e', text: string): HTMLElement => {
    const message = log.appendChild(h('div', { class: `m ${kind}` }));
    if (kind === 'a') renderMarkdown(message, text);
    else message.textContent = text;
    scroll();
    return message;
  };
  const greet = (): void => {
    log.replaceChildren();
    if (settings.greeting) add('a', settings.greeting);
  };

  let pending: AbortController | null = null;
  const ask = async (): Promise<void> => {
    const message = input.value.trim();
    if (!message || pending) return;
    input.value = '';
    add('u', message);
    const controller = (pending = new AbortController());
    const typing = log.appendChild(h('div', { class: 'm a t', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')));
    send.disabled = true;
    log.setAttribute('aria-busy', 'true');
    scroll();
    let answer: HTMLElement | null = null;
    let text = '';
    let finished = false;
    try {
      const response = await call(`/v1/widget/chat${query}`, {
        method: 'POST',
        // text/plain + Accept keep this a CORS "simple request": no preflight per message.
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', Accept: 'text/event-stream' },
        body: JSON.stringify({ message, conversationId: saved.c, visitorId: saved.v }),
        signal: controller.signal,
      });
      await readEvents(response.body!, (event, data) => {
        const payload = JSON.parse(data);
        if (event === 'conversation') {
          saved.c = payload.conversationId;
          saved.v = payload.visitorId || saved.v;
          persist();
        } else if (event === 'delta') {
          text += payload.text;
          typing.remove();
          renderMarkdown((answer ||= add('a', '')), text);
          scroll();
        } else if (event === 'done') finished = true;
        else if (event === 'error') throw payload;
      });
      if (!finished) throw {};
    } catch (error) {
      if (!controller.signal.aborted) add('e', friendly(error));
    } finally {
      typing.remove();
      log.removeAttribute('aria-busy');
      if (pending === controller) {
        pending = null;
        send.disabled = false;
      }
    }
  };

  const setOpen = (open: boolean, focus?: boolean): void => {
    panel.hidden = !open;
    bubble.setAttribute('aria-expanded', `${open}`);
    bubble.setAttribute('aria-label', `${open ? 'Close' : 'Open'} chat: ${title}`);
    bubbleIcon.firstElementChild!.setAttribute('d', open ? CLOSE_ICON : CHAT_ICON);
    if (open) {
      scroll();
      if (!input.disabled) input.focus();
    } else if (focus) bubble.focus();
  };
  const reset = (): void => {
    pending?.abort();
    pending = null;
    send.disabled = input.disabled;
    delete saved.c;
    persist();
    greet();
  };

  greet();
  if (restored.status === 'fulfilled' && restored.value) {
    for (const item of restored.value.messages) if (item.content) add(item.role === 'user' ? 'u' : 'a', item.content);
  } else if (restored.status === 'rejected' && (restored.reason as Failure | null)?.code === 'NOT_FOUND') {
    reset();
  }
  if (config.status === 'rejected') {
    const code = (config.reason as Failure | null)?.code;
    warn('could not load the widget configuration', code ?? config.reason);
    // Unreadable failures (offline, or a refusal the browser hides by CORS) get the neutral message.
    add('e', code ? friendly(config.reason) : FRIENDLY.INVALID_WIDGET_KEY!);
    // A bad key or a foreign origin will not fix itself during this visit.
    if (code === 'INVALID_WIDGET_KEY' || code === 'ORIGIN_NOT_ALLOWED') input.disabled = send.disabled = true;
  }

  bubble.addEventListener('click', safe(() => setOpen(panel.hidden)));
  closeButton.addEventListener('click', safe(() => setOpen(false, true)));
  newButton.addEventListener(
    'click',
    safe(() => {
      reset();
      input.focus();
    }),
  );
  form.addEventListener(
    'submit',
    safe((event: Event) => {
      event.preventDefault();
      return ask();
    }),
  );
  root.addEventListener(
    'keydown',
    safe((event: Event) => {
      if ((event as KeyboardEvent).key === 'Escape' && !panel.hidden) setOpen(false, true);
    }),
  );

  const wasOpened = (api as { queued?: boolean }).queued;
  Object.assign(api, { open: safe(() => setOpen(true)), close: safe(() => setOpen(false)), reset: safe(reset) });
  (document.body || document.documentElement).append(host);
  if (wasOpened) api.open();
};

const page = window as Window & { faqchat?: FaqchatApi };
// A second copy of the script (pasted twice, or loaded by a SPA again) does nothing.
if (!page.faqchat) {
  const api: FaqchatApi & { queued?: boolean } = {
    open: () => void (api.queued = true),
    close: () => void (api.queued = false),
    reset: () => {},
  };
  page.faqchat = api;
  // document.currentScript is only set while the script first runs, so read it now.
  safe(start)(document.currentScript as HTMLScriptElement | null, api);
}
