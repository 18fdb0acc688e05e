// Shared UI primitives. Feature views import from "views" (this file) only.
export { Layout, ANNOUNCEMENT_REGION_ID, ThemeToggle, BrandMark, orderScripts, htmxConfig, parseTheme, THEME_COOKIE, THEME_STORAGE_KEY, HEARTH_HTMX_EXTENSION } from "./layout.tsx";
export type { LayoutProps, LayoutUser, PageAssets, ScriptAsset, Theme } from "./layout.tsx";
export { xOn } from "./alpine.ts";
export { Field, CheckboxField, SelectField } from "./field.tsx";
export type { FieldProps, FieldType, CheckboxFieldProps, SelectFieldProps } from "./field.tsx";
export { ErrorBanner, ErrorSlot } from "./error-banner.tsx";
export type { ErrorBannerProps } from "./error-banner.tsx";
export { Toast, TOAST_REGION_ID } from "./toast.tsx";
export type { ToastProps, ToastTone } from "./toast.tsx";
export { Avatar, avatarColourIndex, initialsOf } from "./avatar.tsx";
export type { AvatarProps, AvatarSize } from "./avatar.tsx";
export { ErrorPage } from "./error-page.tsx";
export type { ErrorPageProps } from "./error-page.tsx";
export { AppFrame, APP_FRAME_ID } from "./app-frame.tsx";
export { UserMenu } from "./user-menu.tsx";
export type { UserMenuProps } from "./user-menu.tsx";
export type { AppFrameProps } from "./app-frame.tsx";
export { AuthCard } from "./auth-card.tsx";
export type { AuthCardProps } from "./auth-card.tsx";
export { SettingsShell } from "./settings-shell.tsx";
export type { SettingsShellProps, SettingsNavItem, SettingsNavSection } from "./settings-shell.tsx";
export { Icon } from "./icons.tsx";
export type { IconName } from "./icons.tsx";
export {
  RailItem,
  RailSeparator,
  UnreadBadges,
  RailButton,
  SidebarHeader,
  ChannelGroup,
  ChannelLink,
  ChannelHeader,
  MessageList,
  DaySeparator,
  UnreadDivider,
  MessageGroup,
  Message,
  Composer,
  MemberGroup,
  MemberRow,
  EmptyState,
  ChannelIntro,
} from "./chat-parts.tsx";
export type { RailItemProps, ChannelLinkProps, ChannelKind, ChatMount, MessageAuthor, MessageProps } from "./chat-parts.tsx";
export { ImageUpload } from "./image-upload.tsx";
export type { ImageUploadProps } from "./image-upload.tsx";
export { Markdown } from "./markdown.tsx";
