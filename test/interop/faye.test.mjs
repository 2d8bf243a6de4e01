// The official Faye 1.4.3 client over websocket and long-polling.
import { standardScenarios, useServer } from './scenarios.mjs';

const server = useServer();
standardScenarios('faye', 'websocket', server);
standardScenarios('faye', 'long-polling', server);
