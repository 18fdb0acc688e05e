/** The legal pages /terms and /privacy (issue 15 §1, docs/admin.md "Legal pages"). */
export { legalRoutes } from "./routes.tsx";
