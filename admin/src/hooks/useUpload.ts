import { useCallback, useEffect, useRef, useState } from 'react';

import { useAuth } from '@strapi/strapi/admin';

import type { ImportUpload } from '../../../server/src/contracts/imports';
import { PLUGIN_ID } from '../pluginId';

export interface UploadState {
  /** Bytes sent so far and the file's size (the browser's upload progress). */
  loaded: number;
  total: number;
  running: boolean;
  /** The HTTP status and the server's message of a refused or failed upload. */
  error: { status: number; message: string } | null;
}

const idle: UploadState = { loaded: 0, total: 0, running: false, error: null };

/**
 * Sends a file to POST /imports/uploads as multipart (field `file`). The admin's fetch client
 * has no upload progress, so this is an XMLHttpRequest with the admin's token, the same token
 * the fetch client sends (Authorization: Bearer).
 */
export const useUpload = () => {
  const token = useAuth('PactaBackupImport', (auth) => auth.token);
  const [state, setState] = useState<UploadState>(idle);
  const request = useRef<XMLHttpRequest | null>(null);

  useEffect(() => () => request.current?.abort(), []);

  const upload = useCallback(
    (file: File) =>
      new Promise<ImportUpload | null>((resolve) => {
        const xhr = new XMLHttpRequest();
        request.current = xhr;
        const backendURL = (window as unknown as { strapi: { backendURL: string } }).strapi.backendURL;
        xhr.open('POST', `${backendURL}/${PLUGIN_ID}/imports/uploads`);
        if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.withCredentials = true;
        setState({ loaded: 0, total: file.size, running: true, error: null });
        xhr.upload.onprogress = (event) => {
          setState((s) => ({ ...s, loaded: event.loaded, total: event.lengthComputable ? event.total : file.size }));
        };
        const fail = (status: number, message: string) => {
          request.current = null;
          setState((s) => ({ ...s, running: false, error: { status, message } }));
          resolve(null);
        };
        xhr.onerror = () => fail(0, 'The connection to the server was lost during the upload.');
        xhr.onabort = () => {
          request.current = null;
          setState(idle);
          resolve(null);
        };
        xhr.onload = () => {
          let body: { data?: ImportUpload; error?: { message?: string } } = {};
          try {
            body = JSON.parse(xhr.responseText);
          } catch {
            // A proxy's HTML error page: the status says enough.
          }
          if (xhr.status >= 200 && xhr.status < 300 && body.data) {
            request.current = null;
            setState({ loaded: file.size, total: file.size, running: false, error: null });
            resolve(body.data);
          } else {
            fail(xhr.status, body.error?.message ?? xhr.statusText ?? String(xhr.status));
          }
        };
        const form = new FormData();
        form.append('file', file, file.name);
        xhr.send(form);
      }),
    [token]
  );

  const cancel = useCallback(() => request.current?.abort(), []);
  const reset = useCallback(() => setState(idle), []);

  return { ...state, upload, cancel, reset };
};
