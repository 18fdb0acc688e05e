/** The words of a push notification, from the payload's metadata only (it carries no message text). */
export type PushView = { type?: string; kind?: string; sender_name?: string | null; channel_name?: string | null; community_name?: string | null; channel_id?: string; mention?: boolean; count?: number; url?: string };

/** The notification's words, from metadata only. */
export function describePush(p: PushView): { title: string; body: string } {
  const who = p.sender_name || "Someone";
  if (p.type === "call") return { title: `Incoming call from ${who}`, body: p.kind === "group_dm" && p.channel_name ? `In ${p.channel_name}. Open to answer.` : "Open the conversation to answer." };
  const count = Math.max(1, Math.floor(Number(p.count) || 1));
  const many = count > 1 ? `${count} new messages` : "New message";
  if (p.kind === "dm") return { title: who, body: count > 1 ? `${many} from ${who}` : `${who} sent you a message` };
  const where = p.kind === "group_dm" ? p.channel_name || "a group" : `#${p.channel_name ?? "channel"}${p.community_name ? ` in ${p.community_name}` : ""}`;
  return { title: p.mention ? `${who} mentioned you` : who, body: `${many} in ${where}` };
}

