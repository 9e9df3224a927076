/**
 * What a consumer's effect costs in DynamoDB write units. An app's consumers write what the user says
 * (`--effect-writes` per record); an app that knows its items (the reference app, from its handlers' own item
 * builders) describes each write exactly with {@link putIfAbsentEffect} and {@link addOnceEffect}.
 *
 * @module
 */
import { keysPerSecond, type Workload } from './workload';

/** Write units of one effect: when it applies, when its condition fails (a repeat), and its largest item. */
export interface EffectUnits {
  readonly applied: number;
  readonly failed: number;
  /** DynamoDB requests of one applied effect. */
  readonly requests: number;
  readonly largestItemBytes: number;
  /** Markers an `addOnce` item collects over its minute. */
  readonly markersPerItem?: number;
}

/** How a consumer identifies and applies a record. */
export interface EffectProfile {
  /**
   * Whether a repeat of an event's business key (`Workload.duplicateShare`) is a duplicate for this consumer:
   * false for a consumer keyed by something a repeat changes (an event ID).
   */
  readonly repeatsAreDuplicates: boolean;
  /** How the write is described, for the output. */
  readonly description: string;
  /** Its write units at a workload. */
  readonly units: (workload: Workload) => EffectUnits;
}

/** DynamoDB's item size limit. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

/**
 * An item's size as DynamoDB bills it: each attribute's name plus its value (strings and string sets in UTF-8
 * bytes; numbers 1 byte per 2 significant digits + 1; lists and maps 3 bytes + their elements).
 */
export function itemBytes(item: object): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]|^0+|0+$/g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Set) return [...value].reduce((sum: number, element) => sum + valueBytes(element), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, element) => sum + 1 + valueBytes(element), 0);
  if (typeof value === 'object') {
    return 3 + itemBytes(value) + Object.keys(value).length;
  }
  return 0;
}

/** Write request units for an item of `bytes`: one per started KB. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** An effect of `writes` write units per record (the user's `--effect-writes`), or none. */
export function writesPerRecordEffect(writes: number): EffectProfile {
  return {
    repeatsAreDuplicates: true,
    description: writes > 0 ? `${writes} write unit${writes === 1 ? '' : 's'} per record` : 'no DynamoDB write',
    units: () => ({ applied: writes, failed: writes, requests: writes > 0 ? 1 : 0, largestItemBytes: 0 }),
  };
}

/** A `putIfAbsent`: one conditional PutItem of `item`; a repeat pays the same units for its failed condition. */
export function putIfAbsentEffect(item: object, options: { readonly repeatsAreDuplicates: boolean }): EffectProfile {
  const bytes = itemBytes(item);
  const units = writeUnits(bytes);
  return {
    repeatsAreDuplicates: options.repeatsAreDuplicates,
    description: `putIfAbsent of a ${bytes}-byte item`,
    units: () => ({ applied: units, failed: units, requests: 1, largestItemBytes: bytes }),
  };
}

/** What an `addOnce` writes, as its handler builds it. */
export interface AddOnceWrite {
  /** The item (key and counters, without the marker set) once it has counted `keys` business keys. */
  readonly item: (keys: number) => object;
  readonly markerAttribute: string;
  /** Bytes of one marker (a business key). */
  readonly markerBytes: number;
  /** The item `pinFirst` writes first, if the handler pins where a key counts (1 request, whatever comes). */
  readonly pinItem?: object;
  /** How many items share a minute's keys at a workload. */
  readonly itemsPerMinute: (workload: Workload) => number;
  readonly repeatsAreDuplicates: boolean;
}

/**
 * An `addOnce`: one conditional UpdateItem that adds to counters and adds the key's marker to a set in the item.
 * UpdateItem is billed on the larger of the item before and after, and the item grows by one marker per key until
 * its minute ends: the units are the average over that growth. A repeat's failed condition is billed on the item
 * as it stands: on average, the same.
 */
export function addOnceEffect(write: AddOnceWrite): EffectProfile {
  return {
    repeatsAreDuplicates: write.repeatsAreDuplicates,
    description: `addOnce to a set '${write.markerAttribute}' of ${write.markerBytes}-byte markers${write.pinItem ? ', after a pin' : ''}`,
    units: (workload) => {
      const markers = Math.max(1, (keysPerSecond(workload) * 60) / write.itemsPerMinute(workload));
      const count = Math.max(1, Math.round(markers));
      const withName = (keys: number) => itemBytes(write.item(keys)) + Buffer.byteLength(write.markerAttribute);
      let total = 0;
      for (let k = 1; k <= count; k++) total += writeUnits(withName(k) + k * write.markerBytes);
      const pin = write.pinItem ? writeUnits(itemBytes(write.pinItem)) : 0;
      const average = total / count + pin;
      return {
        applied: average,
        failed: average,
        requests: write.pinItem ? 2 : 1,
        largestItemBytes: withName(count) + count * write.markerBytes,
        markersPerItem: markers,
      };
    },
  };
}
