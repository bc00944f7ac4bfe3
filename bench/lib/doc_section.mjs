// Writes one benchmark's section into docs/benchmarks.md: replaces the section that starts with `heading` (up to
// the next "## " heading) or appends it, leaving every other section as it was. Shared by the bench reports.
import fs from 'node:fs';

export function writeDocSection(docPath, heading, section) {
  let text = fs.existsSync(docPath) ? fs.readFileSync(docPath, 'utf8') : '# Benchmarks\n\n';
  const body = section.endsWith('\n') ? section : `${section}\n`;
  const start = text.indexOf(heading);
  if (start >= 0) {
    const next = text.slice(start + heading.length).search(/^## /m);
    const end = next >= 0 ? start + heading.length + next : text.length;
    text = text.slice(0, start) + body + (next >= 0 ? '\n' : '') + text.slice(end);
  } else {
    text = text.replace(/\s*$/, '\n\n') + body;
  }
  fs.writeFileSync(docPath, text.replace(/\n{3,}/g, '\n\n'));
}
