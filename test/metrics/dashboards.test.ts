/**
 * Lint for the shipped Grafana dashboards and provisioning files: the rules that make one
 * file work both through UI import and file provisioning, and queries that stay correct as
 * Prometheus' scrape interval changes. Whether every query returns data from a real
 * Prometheus is checked in prometheus.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRAFANA_DIR, loadDashboards, type Panel, panelQueries, variablesIn } from './dashboards.js';

const files = loadDashboards();
const queries = panelQueries(files);
const PANEL_TYPES = new Set(['timeseries', 'stat', 'table', 'bargauge']);
const TEMPLATED = { type: 'prometheus', uid: `\${datasource}` };
/** Counter series (and a histogram's, which are counters): meaningful only as a rate or increase. */
const COUNTER_SERIES = /_(total|bucket|count|sum)$/;

describe('Grafana dashboards', () => {
  it('ship Overview, Database, Cache, Queues, Dependencies and Node.js runtime with distinct uids and titles', () => {
    expect(files.map(({ dashboard }) => dashboard.title).sort()).toEqual([
      'Chokepoint / Cache',
      'Chokepoint / Database',
      'Chokepoint / Dependencies',
      'Chokepoint / Node.js runtime',
      'Chokepoint / Overview',
      'Chokepoint / Queues',
    ]);
    expect(new Set(files.map(({ dashboard }) => dashboard.uid)).size).toBe(files.length);
  });

  it.each(files)(
    '$file: classic JSON (schemaVersion 39–41) with no DS_… import inputs',
    ({ text, dashboard }) => {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
      expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
      expect(dashboard.__inputs).toBeUndefined();
      expect(text).not.toContain('${DS_');
    },
  );

  it.each(files)(
    '$file: a Prometheus datasource variable and job, instance and service variables',
    ({ dashboard }) => {
      const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));
      expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const name of ['job', 'instance', 'service']) {
        expect(variables.get(name), name).toMatchObject({ type: 'query', datasource: TEMPLATED });
      }
      for (const variable of dashboard.templating.list) {
        for (const used of variablesIn(variable.definition ?? '')) {
          expect(variables.has(used), `${variable.name} uses $${used}`).toBe(true);
        }
      }
    },
  );

  it.each(files)(
    '$file: every panel is a modern type with a title, description, unit and the templated datasource',
    ({ dashboard }) => {
      expect(dashboard.panels.length).toBeGreaterThan(0);
      for (const panel of dashboard.panels) {
        const where = `panel ${panel.id} "${panel.title}"`;
        expect(PANEL_TYPES.has(panel.type), `${where}: type ${panel.type}`).toBe(true);
        expect(panel.title, where).not.toBe('');
        expect(panel.description?.trim(), `${where}: description`).toBeTruthy();
        expect(panel.fieldConfig?.defaults?.unit, `${where}: unit`).toBeTruthy();
        expect(panel.datasource, `${where}: datasource`).toEqual(TEMPLATED);
        expect(panel.targets?.length, `${where}: queries`).toBeGreaterThan(0);
        for (const target of panel.targets ?? [])
          expect(target.datasource, `${where} ${target.refId}`).toEqual(TEMPLATED);
      }
    },
  );

  it.each(files)('$file: unique panel ids and gridPos inside 24 columns with no overlap', ({ dashboard }) => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size, 'duplicate panel id').toBe(ids.length);
    for (const { id, gridPos } of dashboard.panels) {
      const { x, y, w, h } = gridPos;
      expect([x, y, w, h].every(Number.isInteger), `panel ${id}: integer gridPos`).toBe(true);
      expect(
        x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24,
        `panel ${id}: ${JSON.stringify(gridPos)}`,
      ).toBe(true);
    }
    const overlaps = (a: Panel, b: Panel) =>
      a.gridPos.x < b.gridPos.x + b.gridPos.w &&
      b.gridPos.x < a.gridPos.x + a.gridPos.w &&
      a.gridPos.y < b.gridPos.y + b.gridPos.h &&
      b.gridPos.y < a.gridPos.y + a.gridPos.h;
    dashboard.panels.forEach((a, index) => {
      for (const b of dashboard.panels.slice(index + 1))
        expect(overlaps(a, b), `panels ${a.id} and ${b.id}`).toBe(false);
    });
  });

  it.each(
    queries.map((query) => ({
      ...query,
      name: `${query.file} "${query.panel.title}" ${query.target.refId}`,
    })),
  )(
    '$name: ranges are the rate-interval macro; counters only inside rate/increase, gauges never',
    ({ target, file }) => {
      const { expr } = target;
      const defined = new Set([
        ...(files
          .find((entry) => entry.file === file)
          ?.dashboard.templating.list.map((variable) => variable.name) ?? []),
        '__rate_interval',
      ]);
      for (const used of variablesIn(expr)) expect(defined.has(used), `$${used} is not defined`).toBe(true);
      for (const [range] of expr.matchAll(/\[[^\]]*\]/g)) expect(range).toBe('[$__rate_interval]');
      for (const match of expr.matchAll(/\b(?:rate|increase|irate)\(\s*([a-z_:][a-z0-9_:]*)/g)) {
        expect(match[1], `${match[0]} reads a gauge`).toMatch(COUNTER_SERIES);
      }
      for (const match of expr.matchAll(/\bchokepoint_[a-z0-9_]+/g)) {
        if (!COUNTER_SERIES.test(match[0])) continue;
        const before = expr.slice(0, match.index).trimEnd();
        const after = expr.slice((match.index ?? 0) + match[0].length);
        expect(/\b(rate|increase)\($/.test(before), `${match[0]} outside rate()/increase()`).toBe(true);
        expect(after, `${match[0]} without a range`).toMatch(/^(\{[^}]*\})?\[\$__rate_interval\]\)/);
      }
    },
  );
});

describe('Grafana provisioning', () => {
  const read = (path: string) => readFileSync(join(GRAFANA_DIR, 'provisioning', path), 'utf8');

  it('provisions a Prometheus datasource', () => {
    const text = read('datasources/chokepoint.yaml');
    expect(text).toMatch(/^apiVersion: 1$/m);
    expect(text).toMatch(/^\s+type: prometheus$/m);
    expect(text).toMatch(/^\s+url: http:\/\/\S+$/m);
  });

  it('loads the dashboards folder found next to the provisioning folder Grafana is pointed at', () => {
    const text = read('dashboards/chokepoint.yaml');
    expect(text).toMatch(/^apiVersion: 1$/m);
    expect(text).toMatch(/^\s+type: file$/m);
    const path = /^\s+path: (\S+)$/m.exec(text)?.[1];
    expect(path).toBe(`\${GF_PATHS_PROVISIONING}/../dashboards`);
    const expanded = (path as string).replace(`\${GF_PATHS_PROVISIONING}`, join(GRAFANA_DIR, 'provisioning'));
    expect(existsSync(join(expanded, 'overview.json'))).toBe(true);
  });
});
