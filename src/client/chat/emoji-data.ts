// A small bundled set of common emoji with English names for type-to-filter (no network fetch).
// "emoji name|emoji name|…" keeps it compact in the bundle.
const DATA =
  "👍 thumbs up|👎 thumbs down|❤️ red heart|😂 face with tears of joy|🎉 party popper|😮 open mouth surprised|😢 crying face|😡 angry face|🙏 folded hands thanks|👀 eyes|" +
  "🔥 fire|✅ check mark done|❌ cross mark|👏 clapping hands|🙌 raising hands|💯 hundred points|🚀 rocket|✨ sparkles|⭐ star|🤔 thinking face|" +
  "😀 grinning face|😃 smiling face big eyes|😄 smiling eyes|😁 beaming face|😅 sweat smile|🤣 rolling on the floor laughing|😊 blush smiling|😇 halo innocent|🙂 slightly smiling|🙃 upside down|" +
  "😉 winking face|😍 heart eyes|🥰 smiling hearts|😘 kiss|😋 yum tongue|😎 sunglasses cool|🤓 nerd face|🥳 partying face|😏 smirk|😒 unamused|" +
  "😞 disappointed|😔 pensive|😟 worried|😕 confused|🙁 frowning|😣 persevering|😫 tired face|😩 weary|🥺 pleading|😭 loudly crying|" +
  "😤 huffing|🤯 exploding head mind blown|😳 flushed|😱 screaming fear|😨 fearful|😰 anxious sweat|🤗 hugging|🤫 shushing|🤭 hand over mouth|😬 grimacing|" +
  "🙄 eye roll|😴 sleeping|🤤 drooling|😷 mask sick|🤒 thermometer ill|🤢 nauseated|🤮 vomiting|🥵 hot face|🥶 cold face|😵 dizzy|" +
  "🤠 cowboy|🤡 clown|👻 ghost|💀 skull|👽 alien|🤖 robot|💩 poo|😺 cat smile|🙈 see no evil monkey|🙊 speak no evil monkey|" +
  "👋 waving hand hello|🤚 raised back of hand|✋ raised hand stop|👌 ok hand|✌️ victory peace|🤞 crossed fingers luck|🤟 love you gesture|🤘 rock on horns|👉 pointing right|👈 pointing left|" +
  "👆 pointing up|👇 pointing down|☝️ index up|✊ raised fist|👊 fist bump|💪 flexed biceps strong|🫡 saluting|🤝 handshake deal|✍️ writing hand|💅 nail polish|" +
  "🧡 orange heart|💛 yellow heart|💚 green heart|💙 blue heart|💜 purple heart|🖤 black heart|💔 broken heart|💕 two hearts|💖 sparkling heart|💤 zzz sleep|" +
  "☕ coffee|🍕 pizza|🍔 burger|🍰 cake|🍺 beer|🍷 wine|🎂 birthday cake|🍎 apple|🌮 taco|🍿 popcorn|" +
  "🐶 dog|🐱 cat|🦊 fox|🐻 bear|🐼 panda|🐧 penguin|🐢 turtle|🦄 unicorn|🐛 bug|🌱 seedling|" +
  "☀️ sun|🌙 moon|🌈 rainbow|⚡ lightning zap|❄️ snowflake|🌍 globe earth|🏠 house home|💡 light bulb idea|📌 pushpin|📎 paperclip|" +
  "📅 calendar|⏰ alarm clock|⏳ hourglass|📝 memo note|📣 megaphone|🔔 bell|🔒 lock|🔑 key|🛠️ tools|⚠️ warning|" +
  "❓ question mark|❗ exclamation|➕ plus|➖ minus|🆗 ok button|🆕 new|🏆 trophy|🎯 direct hit target|🎁 gift|🎵 music note";

export interface EmojiItem {
  emoji: string;
  name: string;
}

export const EMOJI: readonly EmojiItem[] = DATA.split("|").map((entry) => {
  const space = entry.indexOf(" ");
  return { emoji: entry.slice(0, space), name: entry.slice(space + 1) };
});

/** Every word of the query must start a word of the name (or match the emoji itself). */
export function filterEmoji(query: string, list: readonly EmojiItem[] = EMOJI): EmojiItem[] {
  const words = query.toLowerCase().trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...list];
  return list.filter((item) => {
    if (item.emoji === query.trim()) return true;
    const nameWords = item.name.split(" ");
    return words.every((w) => nameWords.some((n) => n.startsWith(w)));
  });
}
