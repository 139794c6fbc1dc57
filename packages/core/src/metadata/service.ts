import { readFile } from 'node:fs/promises';
import type { PassgateLogger } from '../config.js';
import { consoleLogger } from '../config.js';
import { type MetadataBlob, MetadataBlobError, type MetadataEntry, verifyMetadataBlob } from './blob.js';
import { FIDO_MDS_ROOT_PEM } from './fido-root.js';

/** Where the BLOB comes from: FIDO's URL (`https://mds3.fidoalliance.org/`), a mirror, or a file. */
export type MetadataSource = { url: string } | { file: string } | { load: () => Promise<string> };

export interface MetadataServiceOptions {
  source: MetadataSource;
  /** Trust anchors for the BLOB's signing chain, PEM or base64 DER. Default: the FIDO MDS root. */
  roots?: string[];
  /** Default `consoleLogger`. Failed refreshes are logged as warnings, never thrown at a ceremony. */
  logger?: PassgateLogger;
  /**
   * After a failed refresh, try again after this many milliseconds. Default 3_600_000 (1 hour).
   * A successful one schedules the next at the BLOB's `nextUpdate` (at most 24 hours ahead).
   */
  retryMs?: number;
  /** Longest wait for the URL source, in ms. Default 30_000. */
  fetchTimeoutMs?: number;
  /** Clock in ms since the epoch (tests). Default `Date.now`. */
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The FIDO Metadata Service (MDS3) for registration policy: loads a BLOB from a file or URL,
 * verifies it (`verifyMetadataBlob`: JWS signature, certificate chain to the FIDO root, nextUpdate),
 * keeps the last good copy in memory and refreshes it in the background. Lookups are synchronous
 * and never wait on the network: a ceremony sees whatever copy is current. A failed refresh keeps
 * the last good copy and logs a warning; a BLOB whose `no` is not newer than the current one is
 * ignored (FIDO's rule against replays of older BLOBs).
 *
 * Call `start()` once at boot (await it to begin with data), `stop()` at shutdown.
 */
export class MetadataService {
  #blob: MetadataBlob | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #refreshing: Promise<boolean> | null = null;
  readonly #options: Required<Omit<MetadataServiceOptions, 'source'>> & { source: MetadataSource };

  constructor(options: MetadataServiceOptions) {
    if (!options?.source)
      throw new TypeError('passgate: metadata: a source ({ url } or { file }) is required');
    this.#options = {
      source: options.source,
      roots: options.roots ?? [FIDO_MDS_ROOT_PEM],
      logger: options.logger ?? consoleLogger,
      retryMs: options.retryMs ?? 60 * 60 * 1000,
      fetchTimeoutMs: options.fetchTimeoutMs ?? 30_000,
      now: options.now ?? Date.now,
    };
  }

  /** Loads the first copy and starts the background refresh. Resolves whether the first load succeeded. */
  async start(): Promise<boolean> {
    this.#running = true;
    return this.refresh();
  }

  /** Stops the background refresh (the current copy stays readable). */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  /**
   * Fetches and verifies a BLOB now; swaps it in if it is valid and newer. Never rejects: resolves
   * `false` (and logs) when the new copy was refused or could not be read. Concurrent calls share one run.
   */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /** The current entry for an AAGUID (any case), or null when none is loaded or the AAGUID is unknown. */
  entry(aaguid: string): MetadataEntry | null {
    return this.#blob?.entries.get(aaguid.toLowerCase()) ?? null;
  }

  /** What is loaded: the BLOB's serial number and due date, and whether that date has passed. */
  status(): { loaded: boolean; no: number | null; nextUpdate: Date | null; stale: boolean } {
    const blob = this.#blob;
    return {
      loaded: blob !== null,
      no: blob?.no ?? null,
      nextUpdate: blob?.nextUpdate ?? null,
      stale: blob !== null && this.#options.now() >= blob.nextUpdate.getTime(),
    };
  }

  async #refresh(): Promise<boolean> {
    const { logger, now } = this.#options;
    let ok = false;
    try {
      const text = await this.#read();
      const blob = verifyMetadataBlob(text, this.#options.roots, new Date(now()));
      const current = this.#blob;
      if (current && blob.no <= current.no) {
        logger.info('passgate metadata: the BLOB is not newer than the one loaded; kept it', {
          no: blob.no,
          current: current.no,
        });
      } else {
        this.#blob = blob;
        logger.info('passgate metadata: BLOB loaded', { no: blob.no, entries: blob.entries.size });
      }
      ok = true;
    } catch (error) {
      logger.warn('passgate metadata: refresh failed; keeping the last good copy', {
        reason: error instanceof MetadataBlobError ? error.reason : 'unreadable',
        error: error instanceof Error ? error.message : String(error),
        loadedNo: this.#blob?.no ?? null,
      });
    }
    this.#schedule(ok);
    return ok;
  }

  #schedule(ok: boolean): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    const { now, retryMs } = this.#options;
    const due = this.#blob ? this.#blob.nextUpdate.getTime() - now() : 0;
    const delay = ok ? Math.min(Math.max(due, retryMs), DAY_MS) : retryMs;
    this.#timer = setTimeout(() => void this.refresh(), delay);
    // The refresh must never keep a process alive that is otherwise done.
    this.#timer.unref?.();
  }

  async #read(): Promise<string> {
    const { source, fetchTimeoutMs } = this.#options;
    if ('file' in source) return readFile(source.file, 'utf8');
    if ('load' in source) return source.load();
    const response = await fetch(source.url, { signal: AbortSignal.timeout(fetchTimeoutMs) });
    if (!response.ok) throw new Error(`${source.url} answered ${response.status}`);
    return response.text();
  }
}
