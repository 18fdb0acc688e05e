/** The Usage tab (issue 15 §1, docs/admin.md "Usage"). */
export { usageRoutes } from "./routes.tsx";
