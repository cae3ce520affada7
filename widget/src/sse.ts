/**
 * Reads a text/event-stream body by hand (EventSource cannot POST) and calls `onEvent`
 * for each complete event. Only the `event:` and `data:` fields are used.
 */
export const readEvents = async (body: ReadableStream<Uint8Array>, onEvent: (event: string, data: string) => void): Promise<void> => {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    // A bare CR is a line end in SSE and never part of the data, so dropping it normalises CRLF.
    buffer += decoder.decode(value, { stream: true }).replace(/\r/g, '');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      let event = 'message';
      let data: string | null = null;
      for (const line of buffer.slice(0, end).split('\n')) {
        const field = /^(event|data):? ?(.*)$/.exec(line);
        if (field?.[1] === 'event') event = field[2]!;
        else if (field) data = data == null ? field[2]! : `${data}\n${field[2]}`;
      }
      buffer = buffer.slice(end + 2);
      if (data != null) onEvent(event, data);
    }
  }
};
