import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerHealthRoutes(app: FastifyInstance, services: Services): void {
  /** For a load balancer: answers 200 only when the database answers. */
  app.get('/health', async (_request, reply) => {
    const database = await services.health();
    reply.code(database.ok ? 200 : 503).header('cache-control', 'no-store');
    return { status: database.ok ? 'ok' : 'unavailable', database };
  });

  /** The process is up; says nothing of the database. */
  app.get('/ping', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });
}
