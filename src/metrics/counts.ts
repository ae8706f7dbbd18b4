/** Named counts added up across workers or shards: the figures are sums, so they merge without loss. */

export function sumRecords<K extends string>(list: readonly Partial<Record<K, number>>[]): Record<string, number> {
  const acc = new Map<string, number>();
  for (const rec of list) for (const [k, v] of Object.entries(rec) as [string, number][]) acc.set(k, (acc.get(k) ?? 0) + v);
  return Object.fromEntries(acc);
}

/** The sum of the parts that counted anything; undefined when none did (a transport with no such counts). */
export function sumCounts(parts: readonly (Readonly<Record<string, number>> | undefined)[]): Record<string, number> | undefined {
  const present = parts.filter((p): p is Readonly<Record<string, number>> => p !== undefined);
  return present.length === 0 ? undefined : sumRecords(present);
}
