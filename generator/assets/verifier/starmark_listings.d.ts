/* tslint:disable */
/* eslint-disable */

/**
 * Checks a listings file in the browser: `file` its bytes and `name` its name (for its
 * extension), `sheet` an XLSX sheet (empty for the first), `columns` chosen columns
 * (`ROLE=HEADER; ...`), `root_hex` the pinned root key, the site's signed trust list, revocation
 * list (`undefined` when missing) and claims bundle, `now` the time of the check (Unix seconds),
 * `base_url` where the registry's label links lead. Returns a [`ListingsOutcome`] object; never
 * throws.
 */
export function check_listings(file: Uint8Array | number[], name: string, sheet: string, columns: string, root_hex: string, trust_list: Uint8Array | number[], revocation_list: Uint8Array | number[] | null | undefined, claims: Uint8Array | number[], now: number, base_url: string): any;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly check_listings: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number, p: number, q: number, r: number, s: number) => any;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
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
