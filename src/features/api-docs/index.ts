/** The API description feature: GET /api/openapi.json and its browsable page GET /help/api. */
export { apiDocsRoutes } from "./routes.tsx";
export { API_PAGE_PATH, authOf, buildOpenApiDocument, OPENAPI_PATH, openApiPath, type DocumentedApp } from "./document.ts";
