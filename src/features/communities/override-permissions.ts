/**
 * The permissions the channel-override form offers (the channel-level ones), shared by the view
 * that renders it and the form handler that reads it. A module of its own with no imports: the
 * view pulls in much of the app, and importing it from the form handler reorders module loading.
 */
export const OVERRIDE_PERMISSIONS = ["view_channel", "send_messages", "join_voice", "manage_messages", "pin", "mention_everyone"] as const;
