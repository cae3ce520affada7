// Placeholder until the widget lands: a second load is a no-op and nothing reaches the host page.
(() => {
  const host = window as Window & { faqchat?: object };
  if (host.faqchat) return;
  host.faqchat = {};
})();
