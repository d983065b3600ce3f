/** The name of the variable (and of the file it points to) a step reads its build info from; no zod, so the engine's hot path can import it. */
export const BUILD_INFO_VAR = "MB_BUILD_INFO";
