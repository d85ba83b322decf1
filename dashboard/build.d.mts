/** Bundles the dashboard into `outDir` (index.html, assets/app.js, assets/app.css). */
export function buildDashboard(outDir: string): Promise<void>;
