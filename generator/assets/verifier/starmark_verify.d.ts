/* tslint:disable */
/* eslint-disable */

/** A u64: a number when exact, else a decimal string. */
export type Int = number | string;
export interface ListsInfo {
    trust_sequence?: Int; trust_error?: string;
    revocation_sequence?: Int; revocation_issued_at?: Int; revocation_next_update?: Int;
    revocation_error?: string;
}
/** The verdict report: the object of `starmark verify --json` (docs/FORMAT.md). */
export interface Report {
    verdict: "valid" | "expired" | "not_yet_valid" | "revoked" | "counterfeit" | "unknown_issuer"
    | "issuer_compromised" | "malformed";
    stale: boolean; rollback: boolean;
    serial: Int | null; manufacturer: string | null; model: string | null; tier: 1 | 2 | 3 | null;
    category: string | null; valid_from: string | null; valid_until: string | null;
    key_id: string | null; issuer: string | null; record_sha256: string | null;
    revocation: { serial: Int; date: string; reason: string } | null;
    revocation_sequence: Int | null; detail: string | null; superseded_by: Int | null;
}
/** JSON.parse of what verify() returns. */
export interface Outcome { report?: Report; error?: string; lists: ListsInfo }



/**
 * Checks the lists' signatures and returns their sequences and dates (`ListsInfo`) as JSON
 * text, so the page can keep the newest verified lists and refuse older ones.
 */
export function inspect(root_key: string, trust_list: Uint8Array | number[], revocation_list?: Uint8Array | number[] | null): string;

/**
 * Verifies a label. Arguments: the digits (or a verify URL), the pinned root public key (64 hex
 * digits), the trust list and revocation list bytes (`api/v1/*.bin`; the revocation list may be
 * `undefined`), the time in Unix seconds, the highest revocation list sequence seen before (or
 * `undefined`), and the supersessions (`old, new` serial pairs as 16 bytes each, two
 * little-endian u64, or `undefined`; a short tail is ignored). Returns JSON text:
 * `{"report": <the verdict report>, "lists": ...}`, or `{"error": ..., "lists": ...}` when no
 * verdict could be computed.
 */
export function verify(target: string, root_key: string, trust_list: Uint8Array | number[], revocation_list: Uint8Array | number[] | null | undefined, now: number, highest_seen_sequence?: number | null, supersessions?: Uint8Array | number[] | null): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly inspect: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number];
    readonly verify: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number) => [number, number];
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
