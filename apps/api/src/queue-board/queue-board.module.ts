import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { QueueBoardController } from './queue-board.controller';
import { QueueBoard } from './queue-board.service';
import { QueueBoardSessions } from './queue-board-sessions';

/** bull-board for superadmins at /admin/queues, and the session route that opens it in a browser. */
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [QueueBoardController],
  providers: [QueueBoard, QueueBoardSessions],
  exports: [QueueBoard],
})
export class QueueBoardModule {}
