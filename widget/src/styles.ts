export const DEFAULT_COLOR = '#007bff';

/** The owner's colour if it is #rgb or #rrggbb, expanded to #rrggbb; the default otherwise. */
export const safeColor = (value: unknown): string =>
  typeof value === 'string' && /^#([\da-f]{3}){1,2}$/i.test(value)
    ? value.length === 4
      ? value.replace(/\w/g, '$&$&')
      : value
    : DEFAULT_COLOR;

/** Black or white, whichever contrasts more with `color` (WCAG 2 relative luminance). */
export const readableOn = (color: string): string => {
  let luminance = 0;
  for (let i = 0; i < 3; i++) {
    const c = parseInt(color.substr(1 + 2 * i, 2), 16) / 255;
    luminance += [0.2126, 0.7152, 0.0722][i]! * (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  }
  return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? '#000' : '#fff';
};

/**
 * The widget's only styles, applied as a constructable stylesheet (no <style>, no style=,
 * so a strict style-src CSP needs no exception). `c` is already validated by safeColor.
 */
export const createSheet = (c: string, side: 'left' | 'right'): CSSStyleSheet => {
  const f = readableOn(c);
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`
:host{all:initial!important}
[hidden]{display:none!important}
*{box-sizing:border-box;margin:0}
.b,.p{position:fixed;z-index:2147483000;${side}:20px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
button,input{font:inherit;color:inherit}
button{cursor:pointer;border:0;background:none;display:flex;align-items:center;justify-content:center}
button:disabled{opacity:.5;cursor:default}
svg{width:24px;height:24px;fill:currentColor}
:focus-visible{outline:3px solid ${c};outline-offset:2px}
.h :focus-visible{outline-color:${f};outline-offset:-3px}
.b{bottom:20px;width:56px;height:56px;border-radius:50%;background:${c};color:${f};box-shadow:0 4px 14px rgba(0,0,0,.3)}
.p{bottom:88px;width:370px;max-width:calc(100vw - 40px);height:min(580px,calc(100vh - 108px));display:flex;flex-direction:column;background:#fff;color:#1f2328;border-radius:14px;box-shadow:0 8px 32px rgba(0,0,0,.3);overflow:hidden}
.h{display:flex;align-items:center;gap:4px;padding:8px 8px 8px 16px;background:${c};color:${f}}
h2{flex:1;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.h button{border-radius:6px;padding:6px 8px;font-size:13px}
.h button:hover{background:rgba(128,128,128,.25)}
.l{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px}
.m{max-width:85%;padding:8px 12px;border-radius:12px;overflow-wrap:anywhere}
.m>*+*{margin-top:6px}
.u{align-self:flex-end;background:${c};color:${f};white-space:pre-wrap}
.a{align-self:flex-start;background:#f1f3f5}
.e{max-width:none;background:#fff4e5;color:#6b3a00}
ul,ol{padding-left:20px}
code{font:.9em ui-monospace,Menlo,Consolas,monospace;background:rgba(0,0,0,.07);border-radius:4px;padding:1px 4px}
a{color:#0b57d0;text-decoration:underline}
.t i{display:inline-block;width:7px;height:7px;margin:4px 2px;border-radius:50%;background:#6e7781;animation:d .8s infinite alternate}
.t i+i{animation-delay:.25s}.t i+i+i{animation-delay:.5s}
@keyframes d{to{opacity:.2}}
.f{display:flex;gap:8px;padding:10px;border-top:1px solid #e1e4e8}
input{flex:1;min-width:0;font-size:16px;padding:9px 12px;border:1px solid #b8bfc6;border-radius:10px;background:#fff;color:#1f2328}
.f button{width:44px;border-radius:10px;background:${c};color:${f}}
@media (max-width:480px){.p{inset:0;width:100%;max-width:none;height:100%;border-radius:0}}
@media (prefers-reduced-motion:reduce){.t i{animation:none}}`);
  return sheet;
};
