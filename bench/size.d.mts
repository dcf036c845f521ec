export interface SizePart {
  id: string;
  label: string;
  entry: string;
  names: string[] | '*';
  base?: string;
  budget: number;
}
export interface SizeRow extends SizePart {
  /** Bytes min+gzip (for a part with `base`: the difference). */
  gzip?: number;
  min?: number;
  /** Bytes min+gzip of the chunks loaded on demand (`import()`), apart from the first load. */
  lazy?: number;
  /** Why the part could not be measured (e.g. a module not written yet). */
  missing?: string;
}
export const parts: SizePart[];
export function bundleSize(
  entry: string,
  names: string[] | '*',
): Promise<{ min: number; gzip: number; lazy: number }>;
export function measure(): Promise<SizeRow[]>;
