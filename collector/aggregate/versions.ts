/**
 * The current version of each service: the newest `service.version` it reports. A
 * version never seen before becomes current; one seen before does not take over again,
 * so old instances still running through a rolling deploy do not flip it back.
 */

/** Versions remembered per service; the oldest are forgotten first. */
const MAX_VERSIONS = 50;

export class ServiceVersions {
  private readonly current = new Map<string, string>();
  private readonly seen = new Map<string, Set<string>>();

  note(service: string, version: string | undefined): void {
    if (version === undefined || this.current.get(service) === version) return;
    let seen = this.seen.get(service);
    if (!seen) {
      seen = new Set();
      this.seen.set(service, seen);
    }
    if (seen.has(version)) return;
    seen.add(version);
    if (seen.size > MAX_VERSIONS) seen.delete(seen.values().next().value as string);
    this.current.set(service, version);
  }

  /** The current version of `service`, if it reported any. */
  of(service: string): string | undefined {
    return this.current.get(service);
  }
}
