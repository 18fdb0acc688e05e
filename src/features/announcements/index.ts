/**
 * Instance announcements (issue 15 §1, docs/admin.md "Announcements"): the admin tab and API, the
 * banner every signed-in page shell renders (`announcementBanner`), and dismissing.
 */
export { announcementBanner, announcementRoutes } from "./routes.tsx";
