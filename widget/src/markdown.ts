import { h } from './dom.js';

type Piece = Node | string;

// **bold**, *italics*, `code`, [label](url) (one level of parentheses in the url) — everything else stays literal text.
const INLINE = /\*\*(.+?)\*\*|\*([^*\s](?:[^*]*[^*\s])?)\*|`([^`]+)`|\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)/g;

const inline = (text: string): Piece[] => {
  const out: Piece[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    out.push(text.slice(last, m.index));
    last = m.index! + m[0].length;
    out.push(
      m[1] != null
        ? h('strong', null, ...inline(m[1]))
        : m[2] != null
          ? h('em', null, ...inline(m[2]))
          : m[3] != null
            ? h('code', null, m[3])
            : // Only http(s) links become anchors; javascript:, data: … stay dead text.
              /^https?:\/\//i.test(m[5]!)
              ? h('a', { href: m[5]!, target: '_blank', rel: 'noopener noreferrer' }, ...inline(m[4]!))
              : m[4]!,
    );
  }
  out.push(text.slice(last));
  return out;
};

/** Renders the answer's small markdown subset (paragraphs, lists, inline marks) into `target`. */
export const renderMarkdown = (target: HTMLElement, text: string): void => {
  const blocks: HTMLElement[] = [];
  let list = null as HTMLElement | null;
  let paragraph = null as HTMLElement | null;
  for (const line of text.split('\n')) {
    const item = /^\s*(?:([-*+])|\d+[.)])\s+(.*)$/.exec(line);
    if (item) {
      const tag = item[1] ? 'ul' : 'ol';
      if (list?.localName !== tag) blocks.push((list = h(tag)));
      list.append(h('li', null, ...inline(item[2]!)));
      paragraph = null;
    } else if (!line.trim()) {
      list = paragraph = null;
    } else {
      if (paragraph) paragraph.append(h('br'), ...inline(line));
      else blocks.push((paragraph = h('p', null, ...inline(line))));
      list = null;
    }
  }
  target.replaceChildren(...blocks);
};
