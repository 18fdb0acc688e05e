/**
 * The values of the notification settings (docs/notifications.md). A module without runtime imports:
 * routes, pages and the rule all read these while the features' modules are still loading.
 */
import type { NotifyLevel } from "../../db/schema.ts";

export const NOTIFY_LEVELS = ["all", "mentions", "none"] as const satisfies readonly NotifyLevel[];
export type { NotifyLevel };

/** "Until I turn it back on": a date no mute reaches otherwise (Postgres 'infinity' does not survive every driver). */
export const MUTE_FOREVER = new Date("9999-12-31T00:00:00Z");
/** The mute choices the UI and API offer, in hours; "forever" = MUTE_FOREVER. */
export const MUTE_HOURS = [1, 8, 24] as const;
export type MuteChoice = "off" | "1h" | "8h" | "24h" | "forever";
export const MUTE_CHOICES = ["off", "1h", "8h", "24h", "forever"] as const satisfies readonly MuteChoice[];

