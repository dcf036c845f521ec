export interface SizePart {
  id: string;
  label: string;
  entry?: string;
  names?: string[] | '*';
  /** The row is the difference between this part's first load and `base`'s. */
  base?: string;
  /** The row is the lazy chunks of `lazyOf`'s split build. */
  lazyOf?: string;
  budget?: number;
  /** What the nearest alternatives cost (DESIGN.md). */
  peers?: string;
}
export interface SizeChunk {
  file: string;
  min: number;
  gzip: number;
}
export interface SizeRow extends SizePart {
  /** Bytes min+gzip (for a part with `base`: the difference; with `lazyOf`: the sum of its chunks). */
  gzip?: number;
  min?: number;
  /** The one-file first load, with every `import()` left out. */
  firstLoad?: number;
  /** The first load of an esbuild code-splitting build of the same entry. */
  splitFirstLoad?: number;
  /** `splitFirstLoad - firstLoad`. */
  splitDifference?: number;
  /** The chunks reached only through `import()`. */
  chunks?: SizeChunk[];
  /** First load plus every lazy chunk. */
  session?: number;
  /** Why the part could not be measured (e.g. a module not written yet). */
  missing?: string;
}
export const SPLIT_TOLERANCE: number;
export const parts: SizePart[];
export function bundleSize(entry: string, names: string[] | '*'): Promise<{ min: number; gzip: number }>;
export function splitSize(
  entry: string,
  names: string[] | '*',
): Promise<{ firstLoad: { gzip: number; files: SizeChunk[] }; lazy: SizeChunk[] }>;
export function measure(): Promise<SizeRow[]>;
