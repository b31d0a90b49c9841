/** The API error of a failed request (Strapi's `{ error: { message, details } }`), or the error's own message. */
export const apiError = (error: unknown) => {
  const err = error as {
    status?: number;
    response?: {
      data?: { error?: { status?: number; message?: string; details?: { code?: string; errors?: Array<{ path: string[]; message: string }> } } };
    };
    message?: string;
  };
  return {
    message: err.response?.data?.error?.message ?? err.message ?? String(error),
    fields: err.response?.data?.error?.details?.errors ?? [],
    /** A machine-readable reason when the server gives one (e.g. STALE_PREVIEW). */
    code: err.response?.data?.error?.details?.code ?? null,
    status: err.status ?? err.response?.data?.error?.status ?? null,
  };
};
