/** The API error of a failed request (Strapi's `{ error: { message, details } }`), or the error's own message. */
export const apiError = (error: unknown) => {
  const err = error as {
    response?: { data?: { error?: { message?: string; details?: { errors?: Array<{ path: string[]; message: string }> } } } };
    message?: string;
  };
  return {
    message: err.response?.data?.error?.message ?? err.message ?? String(error),
    fields: err.response?.data?.error?.details?.errors ?? [],
  };
};
