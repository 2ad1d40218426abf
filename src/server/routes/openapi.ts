/** GET /openapi.json: the OpenAPI 3.1 document of this server (open, like /healthz). */
import { Router, type Request, type Response } from 'express';
import { packageVersion } from '../../util/paths';
import { routeLabel } from '../context';
import { openApiDocument, type OpenApiDocument } from '../openapi';
import type { ServerRuntime } from '../runtime';

export function openapiRouter(rt: ServerRuntime, annotations: boolean): Router {
  const router = Router();
  let doc: OpenApiDocument | undefined; // built on the first request
  router.get('/openapi.json', routeLabel('/openapi.json'), (_req: Request, res: Response) => {
    doc ??= openApiDocument({ version: packageVersion(), apiKeys: rt.options.apiKeys.length > 0, annotations, ui: rt.options.ui });
    res.json(doc);
  });
  return router;
}
