/**
 * The Grafana dashboards shipped in grafana/dashboards, read as Grafana reads them, and
 * their panel queries with Grafana's macros and variables expanded into plain PromQL.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const GRAFANA_DIR = join(__dirname, '..', '..', 'grafana');
export const DASHBOARD_DIR = join(GRAFANA_DIR, 'dashboards');

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId: string;
  expr: string;
  datasource?: DatasourceRef;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: DatasourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
}

export interface Variable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
  datasource?: DatasourceRef;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  __inputs?: unknown;
}

export interface DashboardFile {
  file: string;
  text: string;
  dashboard: Dashboard;
}

export function loadDashboards(): DashboardFile[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(DASHBOARD_DIR, file), 'utf8');
      return { file, text, dashboard: JSON.parse(text) as Dashboard };
    });
}

export interface PanelQuery {
  file: string;
  panel: Panel;
  target: Target;
}

export function panelQueries(files: DashboardFile[]): PanelQuery[] {
  return files.flatMap(({ file, dashboard }) =>
    dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ file, panel, target }))),
  );
}

/** `$name` and `${name}` references in a query: dashboard variables and Grafana's `$__` macros. */
export function variablesIn(expr: string): string[] {
  return [...expr.matchAll(/\$\{?(\w+)\}?/g)].map((match) => match[1] as string);
}

/**
 * Replaces Grafana's macros and the dashboard's variables as Grafana would before sending
 * the query; an unknown one is an error, so a query can never reach Prometheus half expanded.
 *
 * @example
 * expandQuery('rate(x{job=~"$job"}[$__rate_interval])', { job: '.*', __rate_interval: '10s' });
 * // 'rate(x{job=~".*"}[10s])'
 */
export function expandQuery(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (reference, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for ${reference} in: ${expr}`);
    return value;
  });
}
