// The one configuration source of the sharded fleet: inventory.json lists every host with its
// site, and each site is a stack (a shard). The program and the pipeline's shards script read it
// through here, so both agree on which hosts a shard holds.
import * as fs from "node:fs";

export type Edition = "workstation" | "server" | "legacy";

export interface InventoryHost {
  name: string;
  host: string;
  port?: number;
  hostKey: string;
  edition: Edition;
  /** The shard: one stack per site, named after it. */
  site: string;
}

export interface Inventory {
  /** The account every host is reached as (its password is each stack's secret config). */
  user: string;
  hosts: InventoryHost[];
}

const EDITIONS: readonly string[] = ["workstation", "server", "legacy"];
const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/** Reads and checks the inventory: names unique across all sites, every host with a site usable as a stack name. */
export function readInventory(file: string): Inventory {
  const inv = JSON.parse(fs.readFileSync(file, "utf8")) as Inventory;
  if (typeof inv.user !== "string" || !Array.isArray(inv.hosts)) throw new Error(`${file}: needs "user" and a "hosts" list`);
  const seen = new Set<string>();
  for (const h of inv.hosts) {
    if (seen.has(h.name)) throw new Error(`${file}: host ${h.name} is listed twice (a host belongs to one shard)`);
    seen.add(h.name);
    if (!h.host || !h.hostKey) throw new Error(`${file}: host ${h.name} needs "host" and "hostKey"`);
    if (!EDITIONS.includes(h.edition)) throw new Error(`${file}: host ${h.name}: edition must be one of ${EDITIONS.join(", ")}`);
    if (typeof h.site !== "string" || !STACK_NAME.test(h.site)) throw new Error(`${file}: host ${h.name}: "site" must be a stack name (letters, digits, _ . -)`);
  }
  return inv;
}

/** The shards: every site of the inventory, sorted. */
export function sites(inv: Inventory): string[] {
  return [...new Set(inv.hosts.map((h) => h.site))].sort();
}

export function hostsOfSite(inv: Inventory, site: string): InventoryHost[] {
  return inv.hosts.filter((h) => h.site === site);
}
