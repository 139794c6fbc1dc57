/** The bench report as an SVG bar chart: ceremonies/s per target, the ratio to the baseline, the machine. */

const xml = (text) =>
  String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

export function drawChart(report) {
  const rows = report.results;
  const base = rows.find((r) => r.target === 'baseline')?.ceremoniesPerSecond;
  const width = 940;
  const left = 150;
  const right = 210;
  const top = 58;
  const bar = 22;
  const gap = 10;
  const plot = width - left - right;
  const height = top + rows.length * (bar + gap) + 64;
  const max = Math.max(1, ...rows.map((r) => r.ceremoniesPerSecond), base ? 2 * base : 0);
  const x = (v) => left + (v / max) * plot;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>Passkey sign-ins per second: Passgate demos against a hand-rolled Express + SimpleWebAuthn server</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="600">Passkey sign-ins per second (options → sign → verify, ${report.settings.users} concurrent users)</text>`,
    `<text x="${left}" y="40" fill="#555">Higher is better. Dashed line: 2× the hand-rolled Express + SimpleWebAuthn baseline (the goal on memory).</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * (bar + gap);
    const color =
      r.target === 'baseline' || r.target === 'tunedbaseline'
        ? '#999'
        : r.target.startsWith('nestjs')
          ? '#d9534f'
          : '#2b6cb0';
    const ratio = base ? ` (${(r.ceremoniesPerSecond / base).toFixed(2)}×)` : '';
    parts.push(
      `<text x="${left - 8}" y="${y + bar * 0.7}" text-anchor="end">${xml(r.target)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, x(r.ceremoniesPerSecond) - left)}" height="${bar}" fill="${color}"/>`,
      `<text x="${x(r.ceremoniesPerSecond) + 6}" y="${y + bar * 0.7}">${r.ceremoniesPerSecond.toFixed(0)}/s${ratio}, p99 ${r.p99Ms.toFixed(1)} ms</text>`,
    );
  });
  const bottom = top + rows.length * (bar + gap);
  if (base) {
    parts.push(
      `<line x1="${x(2 * base)}" y1="${top - 6}" x2="${x(2 * base)}" y2="${bottom - gap + 6}" stroke="#333" stroke-dasharray="4 3"/>`,
    );
  }
  const m = report.machine;
  parts.push(
    `<text x="10" y="${bottom + 20}" fill="#555">Measured ${xml(report.measuredAt.slice(0, 16).replace('T', ' '))} UTC on ${xml(m.cpu)}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${xml(m.node)}; ${xml(m.pinned)}; load average at start ${xml(m.loadAverageAtStart.join(' '))}.</text>`,
    `<text x="10" y="${bottom + 38}" fill="#555">${report.settings.rounds} interleaved rounds × ${report.settings.seconds} s per target; ES256; Redis and PostgreSQL on the same machine; tunedbaseline: the baseline served like the demos.${m.note ? ` ${xml(m.note)}` : ''}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
